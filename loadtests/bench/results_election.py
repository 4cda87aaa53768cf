"""The results benchmark's election: 1,000 tallied ballots to start with, and a ballot a
second while the subscribers listen (as its own process):

    python -m loadtests.bench.results_election DATABASE_URL SECONDS
"""
from __future__ import annotations

import asyncio
import json
import random
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

ELECTION = "bench-2026"


async def prepare(database_url: str, redis_url: str, ballots: int) -> None:
    import asyncpg
    import redis.asyncio as aioredis

    from services.common.catalog import ElectionCatalog
    from services.common.election import Contest, ElectionDefinition, Option, Precinct
    from services.common.elections_db import insert_election
    from services.common.migrate import migrate
    from services.tally.service import create_tally_pool
    from services.tally.settings import TallySettings
    from services.tally.worker import TallyWorker

    now = datetime.now(timezone.utc)
    definition = ElectionDefinition(
        election_id=ELECTION, title="Bench", opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1),
        contests=[
            Contest("mayor", "Mayor", [Option(f"m{i}", f"M{i}") for i in range(6)]),
            Contest("council", "Council", [Option(f"c{i}", f"C{i}") for i in range(12)], max_choices=3),
        ],
        precincts=[Precinct(f"p{i:02d}", f"Precinct {i}") for i in range(20)],
    )
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    async with pool.acquire() as conn:
        await migrate(conn)
        async with conn.transaction():
            await insert_election(conn, definition)
            await conn.execute("UPDATE precincts SET eligible = 5000 WHERE election_id = $1", ELECTION)
    for _ in range(ballots):
        await cast_random(pool)
    catalog = ElectionCatalog(pool)
    await catalog.start()
    redis = aioredis.from_url(redis_url)
    tally = await create_tally_pool(database_url, TallySettings())  # as ballotline_tally, like the service
    await TallyWorker(tally, redis, catalog, TallySettings()).drain()
    await tally.close()
    await catalog.stop()
    await redis.aclose()
    await pool.close()


async def cast_random(pool) -> None:
    selections = {"mayor": [f"m{random.randrange(6)}"], "council": random.sample([f"c{i}" for i in range(12)], 3)}
    ballot_id = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO ballots (ballot_id, receipt_id, election_id, precinct_id, selections, recorded_at)"
            " VALUES ($1, $2, $3, $4, $5::jsonb, date_trunc('minute', now()))",
            ballot_id, uuid.uuid4().hex, ELECTION, f"p{random.randrange(20):02d}", json.dumps(selections),
        )
        await conn.execute("INSERT INTO tally_outbox (election_id, ballot_id, delta) VALUES ($1, $2, 1)", ELECTION, ballot_id)


async def cast_every_second(database_url: str, seconds: float) -> None:
    import asyncpg

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await cast_random(pool)
            await asyncio.sleep(1.0)
    finally:
        await pool.close()


if __name__ == "__main__":
    asyncio.run(cast_every_second(sys.argv[1], float(sys.argv[2])))
