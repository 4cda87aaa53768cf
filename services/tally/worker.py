"""The tally worker: applies outbox batches, publishes coalesced snapshots, sweeps and
recounts. Runs inside the results service (RESULTS_RUN_TALLY) or alone
(`ballotline tally run`); any number of workers may run at once.

Four loops:
- apply: claim and apply a batch; when the batch was full go again at once, else wait
  TALLY_INTERVAL_MS. Touched elections are marked dirty.
- publish: publish dirty elections, at most once per TALLY_PUBLISH_INTERVAL_MS (many
  batches under load → one snapshot).
- sweep: every TALLY_SWEEP_INTERVAL publish any election whose results changed without a
  batch here (status by the clock, eligible voters, a batch applied by a worker that
  died before publishing, first zero snapshot), re-copy snapshots Redis lost, sample lag.
- recount: every TALLY_RECOUNT_INTERVAL, the full recount of every election.
"""
from __future__ import annotations

import asyncio
import logging
import time

import asyncpg
import redis.asyncio as aioredis

from services.common.catalog import ElectionCatalog
from services.common.election import Election
from services.common.elections_db import load_election
from services.common.sealed_box import Opener
from services.common.tasks import cancel_all

from . import redis_store, snapshots_db, tally_db
from .metrics import (
    HELD_ELECTIONS,
    OUTBOX_PENDING,
    TALLY_BATCH_SIZE,
    TALLY_BATCHES,
    TALLY_ERRORS,
    TALLY_ROWS,
)
from .publisher import publish, repair_redis
from .recount import recount_and_alert
from .settings import TallySettings

log = logging.getLogger(__name__)


class TallyWorker:
    def __init__(self, pool: asyncpg.Pool, redis: aioredis.Redis, catalog: ElectionCatalog, settings: TallySettings):
        self.pool, self.redis, self.catalog, self.settings = pool, redis, catalog, settings
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        settings.require_keys()
        self._opener = Opener(list(settings.keys))
        # Elections whose next outbox row cannot be opened: held back until a restart
        # with the right keys (their later rows may depend on it).
        self.held: dict[str, str] = {}
        self._last_pass: float | None = None  # monotonic time of the last successful apply pass

    async def apply_once(self) -> int:
        result = await tally_db.apply_batch(self.pool, self.settings.batch_size, self._opener, frozenset(self.held))
        for election_id, why in result.held.items():
            log.error(
                "ALERT: the tally cannot open the outbox of %s and holds it back: %s",
                election_id, why, extra={"election_id": election_id, "alert": "outbox_unreadable"},
            )
        if result.held:
            self.held.update(result.held)
            HELD_ELECTIONS.set(len(self.held))
        if result.rows:
            TALLY_BATCHES.inc()
            TALLY_ROWS.inc(result.rows)
            TALLY_BATCH_SIZE.observe(result.rows)
            self._dirty |= result.elections
            self._wake.set()
        return result.rows

    async def publish_dirty(self) -> None:
        dirty, self._dirty = self._dirty, set()
        for election_id in sorted(dirty):
            election = await self._election(election_id)
            if election is not None:
                await publish(self.pool, self.redis, election)

    async def sweep(self) -> None:
        for election in self.catalog.all():
            await publish(self.pool, self.redis, election)
        async with self.pool.acquire() as conn:
            heads = await snapshots_db.head_versions(conn)
            OUTBOX_PENDING.set(await tally_db.pending_rows(conn))
        stored = await redis_store.versions(self.redis, sorted(heads))
        for election_id, version in heads.items():
            if stored.get(election_id, 0) < version:
                await repair_redis(self.pool, self.redis, election_id)

    async def drain(self) -> None:
        """Apply everything pending and publish (tests and `ballotline tally run --once`)."""
        while await self.apply_once():
            pass
        await self.publish_dirty()
        await self.sweep()

    async def _election(self, election_id: str) -> Election | None:
        election = self.catalog.get(election_id)
        if election is None:  # created a moment ago; the catalog has not reloaded yet
            async with self.pool.acquire() as conn:
                election = await load_election(conn, election_id)
        return election

    def health(self) -> tuple[bool, str]:
        """Healthy while apply passes keep succeeding (for the probes of `tally run`)."""
        if self._last_pass is None:
            return False, "the tally has not completed a pass yet"
        age, limit = time.monotonic() - self._last_pass, max(10.0, 50 * self.settings.interval)
        if age > limit:
            return False, f"no successful tally pass for {age:.0f} s (is Postgres reachable?)"
        return True, "ok"

    async def _apply_loop(self) -> None:
        while True:
            applied = await self._guard("apply", self.apply_once())
            if applied is not None:
                self._last_pass = time.monotonic()
            if not applied or applied < self.settings.batch_size:
                await asyncio.sleep(self.settings.interval)

    async def _publish_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._guard("publish", self.publish_dirty())
            await asyncio.sleep(self.settings.publish_interval)

    async def _sweep_loop(self) -> None:
        while True:
            await self._guard("sweep", self.sweep())
            await asyncio.sleep(self.settings.sweep_interval)

    async def _recount_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.recount_interval)
            for election in self.catalog.all():
                await self._guard("recount", recount_and_alert(self.pool, election.election_id))

    async def _guard(self, stage: str, work) -> object:
        try:
            return await work
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failed transaction rolled back; try again
            if (task := asyncio.current_task()) is not None and task.cancelling():
                raise asyncio.CancelledError from None  # an error raised while being stopped
            TALLY_ERRORS.labels(stage).inc()
            log.exception("tally %s failed; retrying", stage)
            await asyncio.sleep(1.0)
            return None

    def start(self) -> None:
        loops = [self._apply_loop, self._publish_loop, self._sweep_loop]
        if self.settings.recount_interval > 0:
            loops.append(self._recount_loop)
        self._tasks = [asyncio.create_task(loop(), name=f"tally-{loop.__name__}") for loop in loops]

    async def stop(self) -> None:
        await cancel_all(self._tasks)
        self._tasks = []
