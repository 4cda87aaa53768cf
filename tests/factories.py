"""Builders for test data: election definitions and voter rolls, written through the same
code the operator CLI uses."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import asyncpg

from services.common.election import Contest, ElectionDefinition, Option, Precinct
from services.common.elections_db import insert_election


def now() -> datetime:
    return datetime.now(timezone.utc)


def definition(election_id: str = "test-election", *, open_now: bool = True, **overrides) -> ElectionDefinition:
    """An election with a single-choice and a two-choice contest and three precincts
    (one of them paper), open now unless `open_now=False` (then it opens tomorrow)."""
    opens = now() - timedelta(hours=1) if open_now else now() + timedelta(days=1)
    fields = dict(
        election_id=election_id,
        title="Test election",
        opens_at=opens,
        closes_at=opens + timedelta(days=2),
        revoting=False,
        auth_methods=["otp", "signature"],
        contests=[
            Contest("mayor", "Mayor", [Option("alice", "Alice"), Option("bob", "Bob"), Option("carol", "Carol")]),
            Contest(
                "council",
                "Council",
                [Option("green", "Green"), Option("blue", "Blue"), Option("red", "Red"), Option("gold", "Gold")],
                max_choices=2,
            ),
        ],
        precincts=[
            Precinct("p1", "North school", "online"),
            Precinct("p2", "South library", "online"),
            Precinct("p9", "Village hall", "paper"),
        ],
    )
    fields.update(overrides)
    return ElectionDefinition(**fields)


async def create_election(
    pool: asyncpg.Pool,
    d: ElectionDefinition | None = None,
    voters: list[tuple[str, str, str | None, bytes | None]] = (),
) -> ElectionDefinition:
    """Insert the election and its roll: voters as (voter_id, precinct_id, phone, public_key)."""
    d = d or definition()
    async with pool.acquire() as conn, conn.transaction():
        await insert_election(conn, d)
        if voters:
            await conn.copy_records_to_table(
                "voters",
                records=[(d.election_id, *v) for v in voters],
                columns=["election_id", "voter_id", "precinct_id", "phone", "public_key"],
            )
            await conn.execute(
                "UPDATE precincts p SET eligible = c.n FROM"
                " (SELECT precinct_id, count(*) AS n FROM voters WHERE election_id = $1 GROUP BY 1) c"
                " WHERE p.election_id = $1 AND p.precinct_id = c.precinct_id",
                d.election_id,
            )
    return d


async def voter_handle(pool: asyncpg.Pool, election_id: str, voter_id: str) -> str:
    return await pool.fetchval(
        "SELECT handle FROM voters WHERE election_id = $1 AND voter_id = $2", election_id, voter_id
    )
