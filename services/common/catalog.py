"""Elections held in memory by a running service, reloaded when an operator changes one.

Changes arrive by Postgres LISTEN/NOTIFY (within milliseconds); a slow poll repairs a
lost notification or a dropped listening connection. Requests never query Postgres for
an election definition.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web

from .election import Election
from .elections_db import CHANNEL, load_elections
from .storage import PG
from .tasks import cancel_all

log = logging.getLogger(__name__)


class ElectionCatalog:
    def __init__(self, pool: asyncpg.Pool, *, poll_interval: float = 5.0) -> None:
        self._pool = pool
        self._poll_interval = poll_interval
        self._elections: dict[str, Election] = {}
        self._listener: asyncpg.Connection | None = None
        self._task: asyncio.Task | None = None
        self._changed = asyncio.Event()

    def get(self, election_id: str) -> Election | None:
        return self._elections.get(election_id)

    def all(self) -> list[Election]:
        return sorted(self._elections.values(), key=lambda e: (e.opens_at, e.election_id))

    async def reload(self) -> None:
        async with self._pool.acquire() as conn:
            self._elections = await load_elections(conn)

    async def start(self) -> None:
        await self.reload()
        self._task = asyncio.create_task(self._run(), name="election-catalog")

    async def stop(self) -> None:
        if self._task:
            await cancel_all([self._task])
        await self._close_listener()

    def _notified(self, *_args: object) -> None:
        self._changed.set()

    async def _listen(self) -> None:
        if self._listener is None or self._listener.is_closed():
            self._listener = await self._pool.acquire()
            await self._listener.add_listener(CHANNEL, self._notified)

    async def _close_listener(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.remove_listener(CHANNEL, self._notified)
                await self._pool.release(self._listener)
            self._listener = None

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), self._poll_interval)
                self._changed.clear()
                await self.reload()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep serving the last known elections
                log.warning("could not refresh elections; retrying", exc_info=True)
                await self._close_listener()
                await asyncio.sleep(1.0)


CATALOG = web.AppKey("catalog", ElectionCatalog)


def catalog_context(poll_interval: float = 5.0):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        catalog = ElectionCatalog(app[PG], poll_interval=poll_interval)
        await catalog.start()
        app[CATALOG] = catalog
        try:
            yield
        finally:
            await catalog.stop()

    return ctx
