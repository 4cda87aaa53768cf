"""`ballotline election create FILE | open ELECTION_ID | close ELECTION_ID`."""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

from .definition_file import load_definition
from .election_phases import close_election, create_election, open_election, when
from .errors import database, operator_command


def register(commands: argparse._SubParsersAction) -> None:
    election = commands.add_parser("election", help="create, open and close elections")
    sub = election.add_subparsers(dest="election_command", required=True)
    create = sub.add_parser("create", help="create an election from a YAML or JSON definition file")
    create.add_argument("file", metavar="FILE")
    create.set_defaults(handler=run_create)
    opening = sub.add_parser("open", help="open the election now (overrides the schedule)")
    opening.add_argument("election_id")
    opening.set_defaults(handler=run_open)
    closing = sub.add_parser("close", help="close the election now (overrides the schedule)")
    closing.add_argument("election_id")
    closing.set_defaults(handler=run_close)


@operator_command
async def run_create(args: argparse.Namespace) -> int:
    definition = load_definition(args.file)  # before connecting: a bad file touches nothing
    async with database() as conn:
        await create_election(conn, definition)
    d = definition
    print(
        f"created election {d.election_id} ({d.title!r}): {len(d.contests)} contest(s), "
        f"{len(d.precincts)} precinct(s), opens {when(d.opens_at)}, closes {when(d.closes_at)}"
    )
    if d.opens_at <= datetime.now(timezone.utc):
        print("warning: opens_at is in the past: the election is open and its (empty) roll is frozen", file=sys.stderr)
    else:
        print(f"next: ballotline roll import {d.election_id} FILE.csv")
    return 0


@operator_command
async def run_open(args: argparse.Namespace) -> int:
    async with database() as conn:
        message = await open_election(conn, args.election_id, datetime.now(timezone.utc))
        voters = await conn.fetchval("SELECT count(*) FROM voters WHERE election_id = $1", args.election_id)
    print(message)
    if not voters:
        print(f"warning: election {args.election_id} has no voters on its roll", file=sys.stderr)
    return 0


@operator_command
async def run_close(args: argparse.Namespace) -> int:
    async with database() as conn:
        message = await close_election(conn, args.election_id, datetime.now(timezone.utc))
    print(message)
    return 0
