"""Background upkeep: delete idempotency keys once they have expired (24 h after their
election closed). Every worker runs it; deleting twice is harmless."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from services.common.tasks import cancel_all

from .store import BallotStore

log = logging.getLogger(__name__)


async def expire_keys_forever(store: BallotStore, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            while (deleted := await store.delete_expired_keys()) > 0:
                log.info("deleted %d expired idempotency keys", deleted)
        except Exception:  # noqa: BLE001 - try again next time
            log.warning("could not delete expired idempotency keys", exc_info=True)


def housekeeping_context(store_key: web.AppKey, interval: float):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(expire_keys_forever(app[store_key], interval), name="expire-idempotency-keys")
        yield
        await cancel_all([task])

    return ctx
