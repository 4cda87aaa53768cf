"""`ballotline up`: the whole system on one machine (see README)."""
from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("up", help="start Postgres, Redis, the demo election and all services")
    p.set_defaults(sync_handler=_up)


def _up(args: argparse.Namespace) -> int:
    from .devstack import run

    return run()
