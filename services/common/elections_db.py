"""Reading and writing election definitions in Postgres, and announcing changes.

Every change to an election (create, open, close, extend, policy, roll import) is written
with an entry in the public audit log (services/common/audit_log.py), the older
`election_events` row and a NOTIFY on `CHANNEL`, all in the same transaction, so running
services reload it at once and the log never disagrees with what happened.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg
import msgspec

from . import audit_log
from .election import Election, ElectionDefinition

CHANNEL = "ballotline_elections"
_definition_decoder = msgspec.json.Decoder(ElectionDefinition)


def _row_to_election(row: asyncpg.Record) -> Election:
    definition = _definition_decoder.decode(row["definition"])
    return Election(definition=definition, opens_at=row["opens_at"], closes_at=row["closes_at"])


async def load_elections(conn: asyncpg.Connection) -> dict[str, Election]:
    rows = await conn.fetch("SELECT definition::text AS definition, opens_at, closes_at FROM elections")
    return {e.election_id: e for e in map(_row_to_election, rows)}


async def load_election(conn: asyncpg.Connection, election_id: str) -> Election | None:
    row = await conn.fetchrow(
        "SELECT definition::text AS definition, opens_at, closes_at FROM elections WHERE election_id = $1",
        election_id,
    )
    return _row_to_election(row) if row else None


@dataclass(frozen=True)
class Change:
    """Who makes a change, and why (API.md: `--actor`, `--reason`)."""

    actor: str
    reason: str | None = None


# Code and data written before the 0.2 audit log (`election_events`) keep their names.
_EVENT_NAMES = {"election.create": "create", "election.open": "open", "election.close": "close",
                "roll.import": "roll_import", "election.extend": "extend", "election.policy": "policy"}


async def record_event(
    conn: asyncpg.Connection, election_id: str, action: str, change: Change, detail: dict | None = None
) -> None:
    """Audit `action` (e.g. "election.open") and tell the services; inside the caller's transaction."""
    await audit_log.append(conn, election_id, actor=change.actor, action=action, reason=change.reason, details=detail)
    await conn.execute(
        "INSERT INTO election_events (election_id, action, actor, detail) VALUES ($1, $2, $3, $4::jsonb)",
        election_id,
        _EVENT_NAMES.get(action, action),
        change.actor,
        msgspec.json.encode(detail or {}).decode(),
    )
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, election_id)


async def insert_election(
    conn: asyncpg.Connection, definition: ElectionDefinition, change: Change = Change("system")
) -> None:
    """Create the election and its precincts; the caller holds the transaction."""
    await conn.execute(
        "INSERT INTO elections (election_id, title, definition, opens_at, closes_at, revoting, auth_methods)"
        " VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7)",
        definition.election_id,
        definition.title,
        msgspec.json.encode(definition).decode(),
        definition.opens_at,
        definition.closes_at,
        definition.revoting,
        list(definition.auth_methods),
    )
    await conn.executemany(
        "INSERT INTO precincts (election_id, precinct_id, name, channel, position) VALUES ($1, $2, $3, $4, $5)",
        [
            (definition.election_id, p.precinct_id, p.name, p.channel, i)
            for i, p in enumerate(definition.precincts)
        ],
    )
    d = definition
    detail = {"title": d.title, "opens_at": d.opens_at.isoformat(), "closes_at": d.closes_at.isoformat(),
              "revoting": d.revoting, "auth_methods": list(d.auth_methods), "contests": len(d.contests),
              "precincts": len(d.precincts)}
    await record_event(conn, d.election_id, "election.create", change, detail)


async def set_times(
    conn: asyncpg.Connection,
    election_id: str,
    opens_at: datetime,
    closes_at: datetime,
    action: str,
    change: Change = Change("system"),
    detail: dict | None = None,
) -> None:
    """Move the effective times; `action` names the change ("election.open", ...)."""
    await conn.execute(
        "UPDATE elections SET opens_at = $2, closes_at = $3, updated_at = now() WHERE election_id = $1",
        election_id,
        opens_at,
        closes_at,
    )
    times = {"opens_at": opens_at.isoformat(), "closes_at": closes_at.isoformat()}
    await record_event(conn, election_id, action, change, {**times, **(detail or {})})


async def set_auth_methods(
    conn: asyncpg.Connection, election_id: str, methods: list[str], change: Change, detail: dict
) -> None:
    """Replace the login methods, in the column and in the definition the services load."""
    await conn.execute(
        "UPDATE elections SET auth_methods = $2,"
        " definition = jsonb_set(definition, '{auth_methods}', to_jsonb($2::text[])), updated_at = now()"
        " WHERE election_id = $1",
        election_id,
        methods,
    )
    await record_event(conn, election_id, "election.policy", change, detail)
