"""`ballotline election create FILE | open | close | extend | policy ELECTION_ID`."""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

from .definition_file import load_definition
from .election_changes import extend_election, parse_methods, set_policy
from .election_phases import close_election, create_election, open_election, when
from .errors import OperatorError, database, operator_command
from .operator import add_actor, add_reason, change_of


def register(commands: argparse._SubParsersAction) -> None:
    election = commands.add_parser("election", help="create, open, close, extend elections and set their login methods")
    sub = election.add_subparsers(dest="election_command", required=True)
    create = sub.add_parser("create", help="create an election from a YAML or JSON definition file")
    create.add_argument("file", metavar="FILE")
    add_actor(create)
    create.set_defaults(handler=run_create)
    opening = sub.add_parser("open", help="open the election now (overrides the schedule)")
    opening.add_argument("election_id")
    add_reason(opening, required=False)
    opening.set_defaults(handler=run_open)
    closing = sub.add_parser("close", help="close the election now (overrides the schedule)")
    closing.add_argument("election_id")
    add_reason(closing, required=False)
    closing.set_defaults(handler=run_close)
    extend = sub.add_parser("extend", help="move the close time of a scheduled or open election later")
    extend.add_argument("election_id")
    extend.add_argument("--until", metavar="TIME", required=True, help="the new close time, RFC 3339 with a zone")
    add_reason(extend, required=True)
    extend.set_defaults(handler=run_extend)
    policy = sub.add_parser("policy", help="replace the election's login methods (effective within a second)")
    policy.add_argument("election_id")
    policy.add_argument("--auth-methods", metavar="signature[,otp]", required=True)
    add_reason(policy, required=True)
    policy.set_defaults(handler=run_policy)


@operator_command
async def run_create(args: argparse.Namespace) -> int:
    change = change_of(args)
    definition = load_definition(args.file)  # before connecting: a bad file touches nothing
    async with database() as conn:
        await create_election(conn, definition, change)
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
    change = change_of(args)
    async with database() as conn:
        message = await open_election(conn, args.election_id, datetime.now(timezone.utc), change)
        voters = await conn.fetchval("SELECT count(*) FROM voters WHERE election_id = $1", args.election_id)
    print(message)
    if not voters:
        print(f"warning: election {args.election_id} has no voters on its roll", file=sys.stderr)
    return 0


@operator_command
async def run_close(args: argparse.Namespace) -> int:
    change = change_of(args)
    async with database() as conn:
        message = await close_election(conn, args.election_id, datetime.now(timezone.utc), change)
    print(message)
    return 0


def parse_time(text: str) -> datetime:
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        t = None
    if t is None or t.tzinfo is None:
        raise OperatorError(f"error: --until {text!r}: must be an RFC 3339 time with a zone, e.g. 2026-11-21T22:00:00Z;"
                            " nothing was changed")
    return t


@operator_command
async def run_extend(args: argparse.Namespace) -> int:
    change = change_of(args, reason_required=True)
    until = parse_time(args.until)
    async with database() as conn:
        message = await extend_election(conn, args.election_id, until, datetime.now(timezone.utc), change)
    print(message)
    return 0


@operator_command
async def run_policy(args: argparse.Namespace) -> int:
    change = change_of(args, reason_required=True)
    methods = parse_methods(args.auth_methods)
    async with database() as conn:
        message = await set_policy(conn, args.election_id, methods, datetime.now(timezone.utc), change)
    print(message)
    return 0
