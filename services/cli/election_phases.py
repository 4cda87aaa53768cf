"""Creating an election and moving its phase now: the use cases behind
`ballotline election create|open|close` (and the demo). Each runs in one transaction
and, through `elections_db`, leaves an audit event and a NOTIFY the services act on.
"""
from __future__ import annotations

from datetime import datetime, timezone

import asyncpg

from services.common.election import ElectionDefinition
from services.common.elections_db import Change, insert_election, set_times

from .errors import OperatorError, election_not_found


def when(t: datetime) -> str:
    """A time as operators read it in messages: UTC, to the second."""
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


async def create_election(conn: asyncpg.Connection, definition: ElectionDefinition, change: Change) -> None:
    exists = OperatorError(
        f"error: election {definition.election_id!r} already exists; nothing was changed "
        "(choose another election_id to create a new one)"
    )
    try:
        async with conn.transaction():
            if await conn.fetchval("SELECT 1 FROM elections WHERE election_id = $1", definition.election_id):
                raise exists
            await insert_election(conn, definition, change)
    except asyncpg.UniqueViolationError:  # created by someone else in the meantime
        raise exists from None


async def times_for_update(conn: asyncpg.Connection, election_id: str) -> tuple[datetime, datetime]:
    row = await conn.fetchrow(
        "SELECT opens_at, closes_at FROM elections WHERE election_id = $1 FOR UPDATE", election_id
    )
    if row is None:
        raise election_not_found(election_id)
    return row["opens_at"], row["closes_at"]


async def open_election(conn: asyncpg.Connection, election_id: str, now: datetime, change: Change) -> str:
    """Open now (unless already open); a closed election is never reopened. Says what happened."""
    async with conn.transaction():
        opens_at, closes_at = await times_for_update(conn, election_id)
        if closes_at <= now:
            raise OperatorError(
                f"error: election {election_id!r} closed at {when(closes_at)}; a closed election cannot be reopened"
            )
        if opens_at <= now:
            return f"election {election_id} is already open (since {when(opens_at)}, closes {when(closes_at)}); nothing changed"
        await set_times(conn, election_id, now, closes_at, "election.open", change)
    return f"election {election_id} is open now ({when(now)}); it closes {when(closes_at)}"


async def close_election(conn: asyncpg.Connection, election_id: str, now: datetime, change: Change) -> str:
    """Close now (unless already closed); one that never opened ends closed, too."""
    async with conn.transaction():
        opens_at, closes_at = await times_for_update(conn, election_id)
        if closes_at <= now:
            return f"election {election_id} is already closed (since {when(closes_at)}); nothing changed"
        await set_times(conn, election_id, min(opens_at, now), now, "election.close", change)
    return f"election {election_id} is closed now ({when(now)})"
