"""Group commit: many requests share one transaction and one WAL flush.

Requests `submit` an item and await its future. Flusher tasks take up to `max_batch`
items (after waiting up to `wait_ms` for a batch to fill), hand them to `write` — one
transaction — and resolve each future with its outcome. `write` may answer DEFER for an
item that must go in a later batch (a second ballot of a voter already in this one).
Past `queue_max` waiting items, `submit` refuses at once: nothing is written.
On `close` the queue is drained: every accepted item gets its answer.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from . import metrics
from .errors import Overloaded

log = logging.getLogger(__name__)
DEFER = object()
Write = Callable[[Sequence[Any]], Awaitable[Sequence[Any]]]


class Batcher:
    def __init__(self, write: Write, *, max_batch: int, wait_ms: float, queue_max: int, flushers: int = 1) -> None:
        self._write = write
        self._max_batch = max_batch
        self._wait = wait_ms / 1000
        self._queue_max = queue_max
        self._queue: deque[tuple[Any, asyncio.Future]] = deque()
        self._ready = asyncio.Event()
        self._closing = False
        self._tasks = [asyncio.create_task(self._run(), name=f"batch-flusher-{i}") for i in range(flushers)]

    def submit(self, item: Any) -> asyncio.Future:
        if self._closing or len(self._queue) >= self._queue_max:
            raise Overloaded("the service is saturated; retry with the same Idempotency-Key", retry_after=1)
        future = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        metrics.QUEUE_DEPTH.set(len(self._queue))
        self._ready.set()
        return future

    async def close(self) -> None:
        self._closing = True
        self._ready.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            while not self._queue:
                if self._closing:
                    return
                self._ready.clear()
                await self._ready.wait()
            if len(self._queue) < self._max_batch and self._wait > 0 and not self._closing:
                await asyncio.sleep(self._wait)
            batch = [self._queue.popleft() for _ in range(min(self._max_batch, len(self._queue)))]
            metrics.QUEUE_DEPTH.set(len(self._queue))
            if batch:
                await self._flush(batch)

    async def _flush(self, batch: list[tuple[Any, asyncio.Future]]) -> None:
        started = time.perf_counter()
        try:
            outcomes = await self._write([item for item, _ in batch])
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - every waiting request gets the failure
            log.error("a batch of %d ballots failed and was rolled back: %s", len(batch), type(exc).__name__)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        metrics.COMMIT_LATENCY.observe(time.perf_counter() - started)
        metrics.BATCH_SIZE.observe(len(batch))
        deferred = []
        for (item, future), outcome in zip(batch, outcomes):
            if outcome is DEFER:
                deferred.append((item, future))
            elif not future.done():
                future.set_result(outcome)
        if deferred:
            self._queue.extendleft(reversed(deferred))
            self._ready.set()
