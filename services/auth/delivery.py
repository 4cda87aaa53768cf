"""Sending codes in the background, so that no answer waits for the SMS gateway (and a
real voter's answer takes as long as a decoy's).

In-flight sends are bounded; on shutdown they get a grace period, then are cancelled.
A sender marked `inline` (the development outbox: one local Redis SET) is awaited before
the answer instead, so a client reading the outbox right after its 202 always finds the
code; in development the outbox endpoint reveals who exists anyway.
"""
from __future__ import annotations

import asyncio
import logging

from . import metrics
from .senders import CodeMessage, DeliveryFailed, Sender

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, sender: Sender, *, max_in_flight: int = 10_000) -> None:
        self.sender = sender
        self._tasks: set[asyncio.Task] = set()
        self._max_in_flight = max_in_flight

    async def submit(self, message: CodeMessage) -> None:
        if getattr(self.sender, "inline", False):
            await self._deliver(message)
            return
        if len(self._tasks) >= self._max_in_flight:
            metrics.DELIVERY_FAILURES.labels(self.sender.name).inc()
            log.error("dropping the code for %s: %d sends already in flight", message.who, len(self._tasks))
            return
        task = asyncio.create_task(self._deliver(message), name="send-code")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, message: CodeMessage) -> None:
        try:
            await self.sender.send(message)
        except asyncio.CancelledError:
            metrics.DELIVERY_FAILURES.labels(self.sender.name).inc()
            raise
        except DeliveryFailed as exc:
            metrics.DELIVERY_FAILURES.labels(self.sender.name).inc()
            log.error("could not deliver the code for %s: %s", message.who, exc)
        except Exception:  # noqa: BLE001 - a sender bug must not kill the loop's task
            metrics.DELIVERY_FAILURES.labels(self.sender.name).inc()
            log.exception("sender %s failed for %s", self.sender.name, message.who)
        else:
            metrics.CODES_SENT.labels(self.sender.name).inc()
            log.info("code sent to %s via %s", message.who, self.sender.name)

    async def drain(self, grace: float) -> None:
        """Wait up to `grace` seconds for sends in flight, then cancel the rest."""
        if not self._tasks:
            return
        pending = set(self._tasks)
        _, late = await asyncio.wait(pending, timeout=grace)
        for task in late:
            task.cancel()
        if late:
            log.warning("cancelled %d code deliveries at shutdown", len(late))
            await asyncio.gather(*late, return_exceptions=True)
