"""Published snapshots in Postgres: the hash chain (results_snapshots) and the heads.

Publications of one election are serialized by a session advisory lock held from the
moment counts are read until the snapshot is in Redis too, so snapshots reach Redis in
version order and a version read later never holds older counts than an earlier one.
"""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import msgspec

from .snapshot import Snapshot, canonical

TOTAL = ""  # the scope of the election total; precinct scopes are precinct ids
_body = msgspec.json.Decoder()


@dataclass(frozen=True)
class Head:
    version: int
    digest: str
    content_key: str


@contextlib.asynccontextmanager
async def election_lock(conn: asyncpg.Connection, election_id: str) -> AsyncIterator[None]:
    key = "ballotline-results:" + election_id
    await conn.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", key)
    # No finally: after an error or a cancellation the connection may be mid-query, and
    # a failing unlock would replace the CancelledError. Returned to the pool, the
    # connection is reset (pg_advisory_unlock_all) or closed: the lock goes either way.
    yield
    await conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", key)


async def read_heads(conn: asyncpg.Connection, election_id: str) -> dict[str, Head]:
    rows = await conn.fetch(
        "SELECT scope, version, digest, content_key FROM results_heads WHERE election_id = $1", election_id
    )
    return {r["scope"]: Head(r["version"], r["digest"], r["content_key"]) for r in rows}


async def head_versions(conn: asyncpg.Connection) -> dict[str, int]:
    rows = await conn.fetch("SELECT election_id, version FROM results_heads WHERE scope = ''")
    return {r[0]: r[1] for r in rows}


async def insert(
    conn: asyncpg.Connection,
    election_id: str,
    snapshots: dict[str, tuple[Snapshot, bytes, str]],
    heads: dict[str, Head],
) -> None:
    """Append snapshots {scope: (snapshot, encoded, content_key)} to the chain and move the heads."""
    rows = []
    for scope, (snap, encoded, key) in sorted(snapshots.items()):
        previous = heads.get(scope)
        rows.append((election_id, scope, snap["version"], snap["digest"], previous and previous.digest, encoded.decode(), key))
    await conn.executemany(
        "INSERT INTO results_snapshots (election_id, scope, version, digest, previous_digest, body)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
        [r[:6] for r in rows],
    )
    await conn.executemany(
        "INSERT INTO results_heads (election_id, scope, version, digest, content_key) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (election_id, scope) DO UPDATE SET version = EXCLUDED.version, digest = EXCLUDED.digest,"
        " content_key = EXCLUDED.content_key",
        [r[:4] + (r[6],) for r in rows],
    )


async def read_published(conn: asyncpg.Connection, election_id: str) -> dict[str, bytes]:
    """The current snapshot of every scope, encoded exactly as first served."""
    rows = await conn.fetch(
        "SELECT s.scope, s.body::text AS body FROM results_heads h JOIN results_snapshots s"
        " USING (election_id, scope, version) WHERE h.election_id = $1",
        election_id,
    )
    return {r["scope"]: canonical(_body.decode(r["body"])) for r in rows}


async def chain(conn: asyncpg.Connection, election_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT scope, version, digest, previous_digest, body::text AS body FROM results_snapshots"
        " WHERE election_id = $1 ORDER BY scope, version",
        election_id,
    )
