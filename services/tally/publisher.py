"""Publish an election's results: read the counts, build the snapshots, check every
invariant, append them to the Postgres chain, then copy them to Redis.

A snapshot is published only when what it says changed (counts, eligible voters,
status); the election total is republished with every change, a precinct only when its
own results changed. Precinct snapshots carry the version of the publication that last
changed them. A snapshot that breaks an invariant is not published: the transaction is
rolled back, the last good snapshot stays, an error is logged and counted.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import asyncpg
import redis.asyncio as aioredis

from services.common.election import Election

from . import redis_store, snapshots_db, tally_db
from .invariants import additivity, violations
from .metrics import (
    INVARIANT_FAILURES,
    PUBLISH_SECONDS,
    REDIS_REPAIRS,
    SNAPSHOTS_PUBLISHED,
)
from .snapshot import build, content_key, encode
from .snapshots_db import TOTAL

log = logging.getLogger(__name__)


class InvariantFailure(Exception):
    def __init__(self, election_id: str, problems: list[str]) -> None:
        super().__init__(f"{election_id}: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Publication:
    election_id: str
    version: int
    bodies: dict[str, bytes]  # {scope: encoded snapshot}, only what changed


async def publish(
    pool: asyncpg.Pool, redis: aioredis.Redis | None, election: Election, *, now: datetime | None = None
) -> Publication | None:
    """Publish the election's current results if they changed; None when unchanged or refused."""
    started = time.perf_counter()
    eid = election.election_id
    async with pool.acquire() as conn, snapshots_db.election_lock(conn, eid):
        try:
            # One database snapshot for every count read: under READ COMMITTED a tally batch
            # committing between two reads would mix two moments (and fail the invariants).
            # Writes here are serialised by the election lock, so no serialisation errors.
            async with conn.transaction(isolation="repeatable_read"):
                publication = await _publish_locked(conn, election, now or datetime.now(timezone.utc))
        except InvariantFailure as failure:
            INVARIANT_FAILURES.inc()
            log.error("snapshot refused for publication: %s", failure, extra={"election_id": eid})
            return None
        if publication is not None and redis is not None:
            await _to_redis(redis, publication)
    if publication is not None:
        SNAPSHOTS_PUBLISHED.inc()
        PUBLISH_SECONDS.observe(time.perf_counter() - started)
    return publication


async def _publish_locked(conn: asyncpg.Connection, election: Election, now: datetime) -> Publication | None:
    eid, definition = election.election_id, election.definition
    heads = await snapshots_db.read_heads(conn, eid)
    tally = await tally_db.read_tally(conn, eid)
    eligible = await tally_db.read_eligible(conn, eid)
    head = heads.get(TOTAL)
    version = (head.version if head else 0) + 1
    common = dict(tally=tally, eligible=eligible, status=election.status(now), version=version, as_of=now)
    built = {TOTAL: build(definition, previous_digest=head and head.digest, **common)}
    for p in definition.precincts:
        previous = heads.get(p.precinct_id)
        built[p.precinct_id] = build(
            definition, precinct_id=p.precinct_id, previous_digest=previous and previous.digest, **common
        )
    keys = {scope: content_key(snap) for scope, snap in built.items()}
    changed = {s for s in built if s not in heads or heads[s].content_key != keys[s]}
    if not changed:
        return None
    problems = violations(built[TOTAL], definition, previous_version=head.version if head else None)
    voted = built[TOTAL]["turnout"]["voted"]
    voters = await tally_db.voters_with_ballot(conn, eid)
    if voted > voters:  # a voter counted twice (two halves of a re-vote apart), or a ballot without a voter
        problems.append(f"turnout voted {voted} exceeds the {voters} voters who have a ballot")
    for scope, snap in built.items():
        if scope != TOTAL:
            problems += [f"precinct {scope}: {p}" for p in violations(snap, definition)]
    problems += additivity(built[TOTAL], [built[p.precinct_id] for p in definition.precincts])
    if problems:
        raise InvariantFailure(eid, problems)
    changed.add(TOTAL)
    out = {s: (built[s], encode(built[s]), keys[s]) for s in changed}
    await snapshots_db.insert(conn, eid, out, heads)
    return Publication(eid, version, {s: encoded for s, (_, encoded, _) in out.items()})


async def _to_redis(redis: aioredis.Redis, publication: Publication) -> None:
    try:
        await redis_store.store(redis, publication.election_id, publication.version, publication.bodies)
    except Exception:  # noqa: BLE001 - Redis holds copies only; the sweep repairs it
        log.warning("could not copy snapshot %s of %s to redis", publication.version, publication.election_id, exc_info=True)


async def repair_redis(pool: asyncpg.Pool, redis: aioredis.Redis, election_id: str) -> bool:
    """Copy the published snapshots back to Redis when it lost them (flushed, restarted)."""
    async with pool.acquire() as conn, snapshots_db.election_lock(conn, election_id):
        heads = await snapshots_db.read_heads(conn, election_id)
        head = heads.get(TOTAL)
        if head is None:
            return False
        stored = (await redis_store.versions(redis, [election_id]))[election_id]
        if stored >= head.version:
            return False
        bodies = await snapshots_db.read_published(conn, election_id)
        written = await redis_store.store(redis, election_id, head.version, bodies)
    if written:
        REDIS_REPAIRS.inc()
        log.warning("re-published snapshot %s of %s to redis from postgres", head.version, election_id)
    return written
