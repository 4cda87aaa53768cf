"""The operator command, `ballotline`. Each command group lives in its own module with a
`register(subparsers)`; handlers are `async def handler(args) -> exit code` (or a
`sync_handler` for commands that run their own loop, like `serve`)."""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from . import audit, db, demo, elections, roll, serving, stack, tally

COMMAND_MODULES = [db, serving, stack, elections, roll, demo, tally, audit]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ballotline", description="Ballotline operator commands")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if getattr(args, "sync_handler", None):
        return int(args.sync_handler(args) or 0)
    return asyncio.run(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
