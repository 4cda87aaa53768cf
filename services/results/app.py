"""The results service: wiring only (see services/common/serve.py for the contract)."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from services.common.catalog import CATALOG, catalog_context
from services.common.openapi import serve_openapi
from services.common.storage import PG, REDIS, pg_context, redis_context
from services.common.web import base_app
from services.tally.service import create_tally_pool, running_tally
from services.tally.worker import TallyWorker

from .cache import SnapshotCache
from .handlers import CACHE, HUB, RECEIPT_SLOTS, SETTINGS, setup_routes
from .openapi import openapi_document
from .settings import DEFAULT_PORT, ResultsSettings, load_settings
from .stream import StreamHub

SERVICE_NAME = "results"
__all__ = ["SERVICE_NAME", "DEFAULT_PORT", "load_settings", "create_app"]

TALLY = web.AppKey("tally_worker", TallyWorker)


async def _read_side(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    hub = StreamHub(settings.heartbeat)
    cache = SnapshotCache(app[PG], app[REDIS], app[CATALOG], poll_interval=settings.poll_interval, on_update=hub.publish)
    app[HUB], app[CACHE] = hub, cache
    hub.start()
    await cache.start()
    try:
        yield
    finally:
        await cache.stop()
        await hub.stop()


async def _tally(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if not settings.run_tally:
        yield
        return
    # The tally writes and the read side must not: a pool of its own, as its own role.
    pool = await create_tally_pool(settings.common.database_url.reveal(), settings.tally)
    try:
        async with running_tally(pool, app[REDIS], app[CATALOG], settings.tally) as worker:
            app[TALLY] = worker
            yield
    finally:
        await pool.close()


async def _close_streams(app: web.Application) -> None:
    app[HUB].close()  # stream handlers return; their responses end cleanly


def create_app(settings: ResultsSettings) -> web.Application:
    app = base_app(SERVICE_NAME)
    app[SETTINGS] = settings
    app[RECEIPT_SLOTS] = asyncio.Semaphore(settings.receipt_concurrency)
    common = settings.common
    app.cleanup_ctx.extend(
        [
            pg_context(common.database_url, max_size=settings.pg_pool_size, role=common.database_role),
            redis_context(common.redis_url),
            catalog_context(),
            _tally,
            _read_side,
        ]
    )
    app.on_shutdown.append(_close_streams)
    setup_routes(app)
    serve_openapi(app, openapi_document(port=common.port))
    return app
