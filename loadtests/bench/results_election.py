"""The results benchmark's election: 1,000 tallied ballots to start with, and a ballot a
second while the subscribers listen (as its own process):

    python -m loadtests.bench.results_election DATABASE_URL SECONDS
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

ELECTION = "bench-2026"


async def prepare(env: dict[str, str], ballots: int) -> None:
    """`env`: DATABASE_URL, REDIS_URL and the tally key pair (TALLY_PRIVATE_KEY, TALLY_PUBLIC_KEY)."""
    import asyncpg
    import redis.asyncio as aioredis

    from services.common.catalog import ElectionCatalog
    from services.common.election import Contest, ElectionDefinition, Option, Precinct
    from services.common.elections_db import insert_election
    from services.common.migrate import migrate
    from services.common.settings import Env
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
    database_url, redis_url = env["DATABASE_URL"], env["REDIS_URL"]
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    async with pool.acquire() as conn:
        await migrate(conn)
        async with conn.transaction():
            await insert_election(conn, definition)
            await conn.execute("UPDATE precincts SET eligible = 5000 WHERE election_id = $1", ELECTION)
    sealer = sealer_from(env)
    for _ in range(ballots):
        await cast_random(pool, sealer)
    catalog = ElectionCatalog(pool)
    await catalog.start()
    redis = aioredis.from_url(redis_url)
    settings = TallySettings.from_env(Env(env))
    tally = await create_tally_pool(database_url, settings)  # as ballotline_tally, like the service
    await TallyWorker(tally, redis, catalog, settings).drain()
    await tally.close()
    await catalog.stop()
    await redis.aclose()
    await pool.close()


def sealer_from(env: dict[str, str]):
    from services.common.sealed_box import Sealer, load_public_key
    from services.common.settings import Env

    return Sealer(load_public_key(Env(env), "TALLY_PUBLIC_KEY"))


async def cast_random(pool, sealer) -> None:
    """A ballot as the vote service writes it: a participation row and a sealed outbox message."""
    from services.common import outbox

    selections = {"mayor": [f"m{random.randrange(6)}"], "council": sorted(random.sample([f"c{i}" for i in range(12)], 3))}
    message = outbox.CastMessage(str(uuid.uuid4()), uuid.uuid4().hex, f"p{random.randrange(20):02d}",
                                 json.dumps(selections, sort_keys=True, separators=(",", ":")))
    sealed = sealer.batch().seal(outbox.encode(message, 1024), ELECTION.encode())
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO participation (election_id, voter, last_recorded_at, sealed_ballot)"
            " VALUES ($1, $2, date_trunc('minute', now()), '\\x00')", ELECTION, uuid.uuid4().hex)
        await conn.execute("INSERT INTO tally_outbox (election_id, sealed) VALUES ($1, $2)", ELECTION, sealed)


async def cast_every_second(database_url: str, seconds: float) -> None:
    import asyncpg

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    sealer = sealer_from(dict(os.environ))
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await cast_random(pool, sealer)
            await asyncio.sleep(1.0)
    finally:
        await pool.close()


if __name__ == "__main__":
    asyncio.run(cast_every_second(sys.argv[1], float(sys.argv[2])))
