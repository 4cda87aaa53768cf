"""Reading and writing election definitions in Postgres, and announcing changes.

Every change to an election (create, open, close) is written with an audit event and a
NOTIFY on `CHANNEL` in the same transaction, so running services reload it at once.
"""
from __future__ import annotations

import getpass
from datetime import datetime

import asyncpg
import msgspec

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


async def record_event(conn: asyncpg.Connection, election_id: str, action: str, detail: dict | None = None) -> None:
    await conn.execute(
        "INSERT INTO election_events (election_id, action, actor, detail) VALUES ($1, $2, $3, $4::jsonb)",
        election_id,
        action,
        _actor(),
        msgspec.json.encode(detail or {}).decode(),
    )
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, election_id)


def _actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        return "unknown"


async def insert_election(conn: asyncpg.Connection, definition: ElectionDefinition) -> None:
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
    await record_event(conn, definition.election_id, "create")


async def set_times(conn: asyncpg.Connection, election_id: str, opens_at: datetime, closes_at: datetime, action: str) -> None:
    await conn.execute(
        "UPDATE elections SET opens_at = $2, closes_at = $3, updated_at = now() WHERE election_id = $1",
        election_id,
        opens_at,
        closes_at,
    )
    await record_event(conn, election_id, action, {"opens_at": opens_at.isoformat(), "closes_at": closes_at.isoformat()})
