"""Server-sent events: every new snapshot of an election pushed to its subscribers.

One `Subscriber` per open stream holds only the latest undelivered snapshot: a slow
client skips versions instead of queueing them, so 10,000 subscribers cost one small
object each and a publication is one pass setting a field, then waking the writers in slices. Heartbeat
comments keep proxies from closing idle streams. On shutdown every stream is ended
cleanly (the handler returns, the chunked body is terminated).
"""
from __future__ import annotations

import asyncio

from services.common.tasks import cancel_all

from .cache import ElectionResults, Entry
from .metrics import STREAM_SUBSCRIBERS

HEARTBEAT = b": heartbeat\n\n"
FANOUT_SLICE = 250


class Subscriber:
    __slots__ = ("pending", "heartbeat", "wake", "sent_version")

    def __init__(self) -> None:
        self.pending: Entry | None = None
        self.heartbeat = False
        self.wake = asyncio.Event()
        self.sent_version = -1

    def take(self) -> bytes:
        """What to write now: the newest unsent snapshot, else a heartbeat, else nothing."""
        self.wake.clear()
        entry, self.pending = self.pending, None
        beat, self.heartbeat = self.heartbeat, False
        if entry is not None and entry.version > self.sent_version:
            self.sent_version = entry.version
            return entry.event
        return HEARTBEAT if beat else b""


class StreamHub:
    def __init__(self, heartbeat: float = 15.0) -> None:
        self.heartbeat = heartbeat
        self.closed = False
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._task: asyncio.Task | None = None
        self._fanouts: set[asyncio.Task] = set()

    def subscribe(self, election_id: str) -> Subscriber:
        subscriber = Subscriber()
        self._subscribers.setdefault(election_id, set()).add(subscriber)
        STREAM_SUBSCRIBERS.inc()
        return subscriber

    def unsubscribe(self, election_id: str, subscriber: Subscriber) -> None:
        subscribers = self._subscribers.get(election_id)
        if subscribers is not None and subscriber in subscribers:
            subscribers.discard(subscriber)
            STREAM_SUBSCRIBERS.dec()

    def count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    def publish(self, election_id: str, results: ElectionResults) -> None:
        subscribers = list(self._subscribers.get(election_id, ()))
        for subscriber in subscribers:
            subscriber.pending = results.total
        if subscribers:
            task = asyncio.get_running_loop().create_task(self._wake(subscribers))
            self._fanouts.add(task)
            task.add_done_callback(self._fanouts.discard)

    async def _wake(self, subscribers: list[Subscriber]) -> None:
        # Woken all at once, 10,000 stream writers would hold the event loop for a
        # few hundred milliseconds; in slices, GET requests are answered in between.
        for start in range(0, len(subscribers), FANOUT_SLICE):
            for subscriber in subscribers[start : start + FANOUT_SLICE]:
                subscriber.wake.set()
            await asyncio.sleep(0)

    def close(self) -> None:
        self.closed = True
        for subscribers in self._subscribers.values():
            for subscriber in subscribers:
                subscriber.wake.set()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            everyone = [s for subscribers in self._subscribers.values() for s in subscribers]
            for subscriber in everyone:
                subscriber.heartbeat = True
            await self._wake(everyone)

    def start(self) -> None:
        self._task = asyncio.create_task(self._beat(), name="stream-heartbeat")

    async def stop(self) -> None:
        self.close()
        if self._task:
            await cancel_all([self._task])
