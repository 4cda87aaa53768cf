"""The audit log in Postgres (migration 0007): append an entry inside the caller's
transaction, read an election's chain back. The chain itself is audit_chain's.

Appends to one election are serialised by a transaction-level advisory lock keyed by the
election, taken before the head is read: two operators changing one election at once
get seq n+1 and n+2, never two n+1 (the primary key would refuse the second anyway).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import asyncpg

from .audit_chain import format_at, next_entry

# The advisory lock's first key: "audt"; the second is the election's hashtext.
_LOCK_SPACE = 0x61756474

_HEAD = "SELECT seq, hash FROM audit_log WHERE election_id = $1 ORDER BY seq DESC LIMIT 1"
_INSERT = """
INSERT INTO audit_log (election_id, seq, at, actor, action, reason, details, prev_hash, hash)
VALUES ($1, $2, $3, $4, $5, $6, $7::json, $8, $9)
"""
_READ = """
SELECT seq, at, actor, action, reason, details::text AS details, prev_hash, hash
FROM audit_log WHERE election_id = $1 ORDER BY seq
"""


async def append(
    conn: asyncpg.Connection,
    election_id: str,
    *,
    actor: str,
    action: str,
    reason: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Append one entry; the caller holds the transaction of the change it records."""
    if not conn.is_in_transaction():
        raise RuntimeError("an audit entry is written in the transaction of the change it records")
    await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", _LOCK_SPACE, election_id)
    previous = await conn.fetchrow(_HEAD, election_id)
    # The clock of this host, to the microsecond Postgres keeps: the hashed string and
    # the stored time are the same instant.
    at = datetime.now(timezone.utc)
    entry = next_entry(
        dict(previous) if previous else None, at=at, actor=actor, action=action, reason=reason, details=details or {}
    )
    await conn.execute(
        _INSERT,
        election_id,
        entry["seq"],
        at,
        actor,
        action,
        reason,
        json.dumps(entry["details"], sort_keys=True, separators=(",", ":"), ensure_ascii=False),
        entry["prev_hash"],
        entry["hash"],
    )
    return entry


async def read(conn: asyncpg.Connection | asyncpg.Pool, election_id: str) -> list[dict[str, Any]]:
    """The election's entries, oldest first, exactly as hashed."""
    return [
        {**dict(r), "at": format_at(r["at"]), "details": json.loads(r["details"])}
        for r in await conn.fetch(_READ, election_id)
    ]
