"""Snapshots held in memory, pre-encoded, on the read side. Requests never wait for
Redis or Postgres once an election is loaded.

New versions arrive by Redis pub/sub (within milliseconds) and by a poll of the stored
versions (RESULTS_POLL_INTERVAL, the fallback for a lost message or connection). A
version is swapped in only when it is newer than the one in memory: what a process
serves never goes backwards, even while Redis is being rebuilt.

When Redis holds nothing for an election the published snapshots are read from
Postgres; when nothing was ever published (the tally has not run yet) a zero snapshot is
built from the definition and the roll (version 0, real zeros, real eligible counts).
It has no ETag: it is not a published version and may change without one.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg
import msgspec
import redis.asyncio as aioredis

from services.common.catalog import ElectionCatalog
from services.common.tasks import cancel_all
from services.tally import redis_store, snapshots_db
from services.tally.snapshots_db import TOTAL
from services.tally.zero import zero_snapshots

from .metrics import SNAPSHOT_SOURCE_ERRORS, SNAPSHOT_UPDATES

log = logging.getLogger(__name__)


class _Versioned(msgspec.Struct):
    version: int


_version = msgspec.json.Decoder(_Versioned)


@dataclass(frozen=True)
class Entry:
    version: int
    body: bytes
    etag: str | None  # the quoted version; None for the unpublished zero snapshot
    event: bytes  # the SSE frame carrying this snapshot

    @classmethod
    def of(cls, body: bytes, *, published: bool = True) -> "Entry":
        version = _version.decode(body).version
        event = b"event: results\nid: %d\ndata: %s\n\n" % (version, body)
        return cls(version, body, f'"{version}"' if published else None, event)


@dataclass(frozen=True)
class ElectionResults:
    total: Entry
    precincts: dict[str, Entry] = field(default_factory=dict)

    @property
    def version(self) -> int:
        return self.total.version


def _results(bodies: dict[str, bytes], *, published: bool = True) -> ElectionResults:
    entries = {scope: Entry.of(body, published=published) for scope, body in bodies.items()}
    return ElectionResults(entries.pop(TOTAL), entries)


class SnapshotCache:
    def __init__(
        self,
        pool: asyncpg.Pool,
        redis: aioredis.Redis,
        catalog: ElectionCatalog,
        *,
        poll_interval: float = 1.0,
        on_update: Callable[[str, ElectionResults], None] = lambda *_: None,
    ) -> None:
        self.pool, self.redis, self.catalog = pool, redis, catalog
        self.poll_interval = poll_interval
        self.on_update = on_update
        self._results: dict[str, ElectionResults] = {}
        self._zero_keys: dict[str, str] = {}
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []

    def get(self, election_id: str) -> ElectionResults | None:
        return self._results.get(election_id)

    async def ensure(self, election_id: str) -> ElectionResults | None:
        """The election's results, loading them on first use (once per process)."""
        found = self._results.get(election_id)
        if found is None:
            await self.refresh([election_id])
            found = self._results.get(election_id)
        return found

    async def refresh(self, election_ids: list[str] | None = None) -> None:
        async with self._lock:
            ids = election_ids if election_ids is not None else [e.election_id for e in self.catalog.all()]
            stored = await redis_store.versions(self.redis, ids)
            for election_id in ids:
                current = self._results.get(election_id)
                have = current.version if current else -1
                if stored.get(election_id, 0) > max(have, 0):
                    version, bodies = await redis_store.load(self.redis, election_id)
                    if version > have and TOTAL in bodies:
                        self._swap(election_id, _results(bodies))
                elif current is None or (current.version == 0 and current.total.etag is None):
                    await self._from_postgres(election_id, have)

    async def _from_postgres(self, election_id: str, have: int) -> None:
        election = self.catalog.get(election_id)
        if election is None:
            return
        async with self.pool.acquire() as conn:
            bodies = await snapshots_db.read_published(conn, election_id)
            if TOTAL in bodies:
                results = _results(bodies)
            else:
                bodies, key = await zero_snapshots(conn, election)
                if self._zero_keys.get(election_id) == key:
                    return  # the same zeros as before; only as_of would differ
                self._zero_keys[election_id] = key
                results = _results(bodies, published=False)
        if results.version > have or results.total.etag is None:
            self._swap(election_id, results)

    def _swap(self, election_id: str, results: ElectionResults) -> None:
        current = self._results.get(election_id)
        if current is not None and current.total.body == results.total.body:
            return
        self._results[election_id] = results
        SNAPSHOT_UPDATES.inc()
        self.on_update(election_id, results)

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            await self._guarded(self.refresh())

    async def _listen_loop(self) -> None:
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(redis_store.CHANNEL)
                while True:  # a bounded wait: the client's socket timeout must not fire
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message and message.get("type") == "message":
                        await self._guarded(self.refresh([message["data"].decode()]))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the poll covers the gap; reconnect
                if (task := asyncio.current_task()) is not None and task.cancelling():
                    raise asyncio.CancelledError from None
                SNAPSHOT_SOURCE_ERRORS.inc()
                log.warning("results pub/sub connection lost; reconnecting", exc_info=True)
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):  # bounded: it may wait on a cancelled reader
                    await asyncio.wait_for(pubsub.aclose(), 1.0)

    async def _guarded(self, work) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep serving what is in memory
            if (task := asyncio.current_task()) is not None and task.cancelling():
                raise asyncio.CancelledError from None  # an error raised while being stopped
            SNAPSHOT_SOURCE_ERRORS.inc()
            log.warning("could not refresh results snapshots", exc_info=True)

    async def start(self) -> None:
        await self._guarded(self.refresh())
        self._tasks = [asyncio.create_task(self._poll_loop()), asyncio.create_task(self._listen_loop())]

    async def stop(self) -> None:
        await cancel_all(self._tasks)

