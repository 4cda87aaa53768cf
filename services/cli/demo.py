"""`ballotline demo`: the open demo election `make run` serves, created once.

DEVELOPMENT ONLY. Demo voters' signing keys derive from a PUBLIC seed (`demo_private_key`),
so anyone can log in as any demo voter with a key: never put real voters in `demo-2026`.
"""
from __future__ import annotations

import argparse
import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.election import Contest, ElectionDefinition, Option, Precinct
from services.common.elections_db import Change, load_election

from .election_phases import create_election, open_election, when
from .errors import database, operator_command
from .operator import add_actor, change_of
from .roll_import import import_roll
from .roll_rows import encode_public_key

DEMO_ID = "demo-2026"
DEMO_VOTERS = 100_000
PRECINCTS = 20
PAPER = {"p19", "p20"}
_LOCK_ID = 0x64656D6F  # "demo": two `ballotline up` at once create it once
# `make run` seeds the demo as the development stack itself.
DEMO_CHANGE = Change("ballotline up")


def demo_private_key(voter_id: str) -> Ed25519PrivateKey:
    """The signing key of a demo voter that has one (every 10th). Public knowledge."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"ballotline-demo-key:" + voter_id.encode()).digest())


def demo_voter_id(number: int) -> str:
    return f"voter-{number:06d}"


def demo_definition(now: datetime) -> ElectionDefinition:
    """A mayor on every ballot, two single-member districts (p01–p10, p11–p20) and a
    10-seat party list with a 5% threshold; "against all" in the districts and the list."""
    def options(*names: str) -> list[Option]:
        return [Option(n.lower().split()[0], n) for n in names]

    against_all = Option("against-all", "Against all", kind="against_all")
    precinct_ids = [f"p{i:02d}" for i in range(1, PRECINCTS + 1)]
    half = PRECINCTS // 2
    return ElectionDefinition(
        election_id=DEMO_ID,
        title="Demo city election 2026",
        opens_at=now + timedelta(hours=1),  # scheduled while the roll is imported, then opened
        closes_at=now + timedelta(days=30),
        revoting=False,
        auth_methods=["otp", "signature"],
        contests=[
            Contest("mayor", "Mayor", options("Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra")),
            Contest("district-1", "District 1 (p01-p10)", [*options("Marie Curie", "Niels Bohr"), against_all],
                    precincts=precinct_ids[:half]),
            Contest("district-2", "District 2 (p11-p20)", [*options("Lise Meitner", "Enrico Fermi"), against_all],
                    precincts=precinct_ids[half:]),
            Contest(
                "council", "City council (party list)",
                [*options("Green Party", "Blue Party", "Red Party", "Gold Party", "Purple Party", "Orange Party"),
                 against_all],
                seats=10, threshold_percent=5, allocation="dhondt",
            ),
        ],
        precincts=[
            Precinct(p, f"Precinct {i}" + (" (paper)" if p in PAPER else ""), "paper" if p in PAPER else "online")
            for i, p in enumerate(precinct_ids, 1)
        ],
    )


def demo_rows(count: int) -> Iterator[tuple[int, list[str]]]:
    """The demo roll as CSV rows would arrive (line numbers as in a file with a header)."""
    for n in range(1, count + 1):
        voter_id = demo_voter_id(n)
        key = encode_public_key(demo_private_key(voter_id).public_key().public_bytes_raw()) if n % 10 == 0 else ""
        yield n + 1, [voter_id, f"p{(n - 1) % PRECINCTS + 1:02d}", f"+1555{n:07d}", key]


async def ensure_demo(conn: asyncpg.Connection, voters: int = DEMO_VOTERS, change: Change = DEMO_CHANGE) -> str:
    """Create, fill and open the demo election unless it exists; return its id."""
    now = datetime.now(timezone.utc)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_ID)
        existing = await load_election(conn, DEMO_ID)
        if existing is not None:
            count = await conn.fetchval("SELECT count(*) FROM voters WHERE election_id = $1", DEMO_ID)
            status = existing.status(now)
            print(f"demo election {DEMO_ID} already exists: {status}, {count:,} voters, "
                  f"opens {when(existing.opens_at)}, closes {when(existing.closes_at)}; nothing changed")
            if status == "closed":
                print(f"note: {DEMO_ID} is closed; to start over, drop the development database (the embedded one: make clean)")
            return DEMO_ID
        await create_election(conn, demo_definition(now), change)
        await import_roll(conn, DEMO_ID, demo_rows(voters), source="demo roll", now=now, change=change)
        await open_election(conn, DEMO_ID, now, change)
    print(f"demo election {DEMO_ID} created and open: {voters:,} voters in {PRECINCTS} precincts "
          f"(every 10th voter has a demo signing key; demo keys are public: development only)")
    return DEMO_ID


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("demo", help="create the open demo election (development only; idempotent)")
    p.add_argument("--voters", type=int, default=DEMO_VOTERS, help=f"voters on the roll (default {DEMO_VOTERS:,})")
    add_actor(p)
    p.set_defaults(handler=run_demo)


@operator_command
async def run_demo(args: argparse.Namespace) -> int:
    async with database() as conn:
        await ensure_demo(conn, args.voters, change_of(args))
    return 0
