"""`ballotline db migrate`: apply the SQL migrations not yet applied."""
from __future__ import annotations

import argparse

from services.common.migrate import migrate

from .context import connect


def register(commands: argparse._SubParsersAction) -> None:
    db = commands.add_parser("db", help="database maintenance")
    sub = db.add_subparsers(dest="db_command", required=True)
    sub.add_parser("migrate", help="apply pending migrations").set_defaults(handler=run_migrate)


async def run_migrate(args: argparse.Namespace) -> int:
    async with connect() as conn:
        applied = await migrate(conn)
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))
    return 0
