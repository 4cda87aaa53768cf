"""`ballotline roll import ELECTION_ID FILE.csv`: replace an election's voter roll."""
from __future__ import annotations

import argparse
import time

from .errors import database, operator_command
from .operator import add_actor, change_of
from .roll_csv import open_roll_csv
from .roll_import import import_roll


def register(commands: argparse._SubParsersAction) -> None:
    roll = commands.add_parser("roll", help="the voter roll of an election")
    sub = roll.add_subparsers(dest="roll_command", required=True)
    p = sub.add_parser(
        "import",
        help="replace the roll with a CSV file (header voter_id,precinct_id,phone,public_key)",
        description="Replace the election's whole roll with FILE; any bad row and nothing is imported. "
        "Refused once the election has opened.",
    )
    p.add_argument("election_id")
    p.add_argument("file", metavar="FILE.csv")
    add_actor(p)
    p.set_defaults(handler=run_import)


@operator_command
async def run_import(args: argparse.Namespace) -> int:
    change = change_of(args)
    with open_roll_csv(args.file) as rows:
        async with database() as conn:
            started = time.perf_counter()
            count = await import_roll(conn, args.election_id, rows, source=args.file, change=change)
            elapsed = time.perf_counter() - started
    rate = count / elapsed if elapsed > 0 else float(count)
    print(f"imported {count:,} voters into {args.election_id} in {elapsed:.2f} s ({rate:,.0f} rows/s)")
    return 0
