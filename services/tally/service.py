"""The tally's one entry point: the results service (small hosts) and `ballotline tally
run` both start and stop the worker through `running_tally`, on a pool of its own from
`create_tally_pool` (the tally writes as ballotline_tally; results only reads)."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg
import redis.asyncio as aioredis

from services.common.catalog import ElectionCatalog
from services.common.storage import create_pool

from .settings import TallySettings
from .worker import TallyWorker

POOL_SIZE = 4  # applying, publishing, the sweep and a recount can each hold one


async def create_tally_pool(dsn: str, settings: TallySettings) -> asyncpg.Pool:
    return await create_pool(dsn, min_size=1, max_size=POOL_SIZE, name="ballotline-tally", role=settings.database_role)



@contextlib.asynccontextmanager
async def running_tally(
    pool: asyncpg.Pool, redis: aioredis.Redis, catalog: ElectionCatalog, settings: TallySettings
) -> AsyncIterator[TallyWorker]:
    """The worker's loops run until the block exits; then they are cancelled and awaited."""
    worker = TallyWorker(pool, redis, catalog, settings)
    worker.start()
    try:
        yield worker
    finally:
        await worker.stop()
