"""Run a `ballotline` command from an async test, on the test's own event loop: the
command's handlers are async (main() only adds asyncio.run). Not on a thread: when the
suite collects the Locust tests, gevent has patched threading, so a "thread" would run
on the test's loop and asyncio.run would refuse to start."""
from __future__ import annotations

from services.cli.main import build_parser


async def ballotline(*argv: str) -> int:
    args = build_parser().parse_args(list(argv))
    return await args.handler(args)
