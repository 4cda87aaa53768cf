"""The tally's one entry point: the results service (small hosts) and `ballotline tally
run` both start and stop the worker through `running_tally`."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg
import redis.asyncio as aioredis

from services.common.catalog import ElectionCatalog

from .settings import TallySettings
from .worker import TallyWorker


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
