"""Changing a running election (API.md "Changing a running election"): the use cases
behind `ballotline election extend|policy`. Each locks the election row, checks, changes
it and appends its audit entry in one transaction; the NOTIFY that commits with it
reaches every auth and vote process within a second (services/common/catalog.py).

The row lock also orders a change against vote batches in flight: they share-lock the
row just before COMMIT (services/vote/sql.py STILL_OPEN) and read `closes_at` there, so
an extension counts for every batch that commits after it.
"""
from __future__ import annotations

from datetime import datetime

import asyncpg

from services.common.election import AUTH_METHODS
from services.common.elections_db import Change, set_auth_methods, set_times

from .election_phases import times_for_update, when
from .errors import OperatorError


def parse_methods(text: str) -> list[str]:
    """`signature` or `signature,otp` → the list, refused (exit 1) unless each is known, once."""
    methods = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in methods if m not in AUTH_METHODS]
    if not methods or unknown:
        raise OperatorError(
            f"error: --auth-methods {text!r}: must name one or more of {', '.join(AUTH_METHODS)}"
            f" (comma-separated); nothing was changed"
        )
    if len(set(methods)) != len(methods):
        raise OperatorError(f"error: --auth-methods {text!r} names a method twice; nothing was changed")
    return methods


def _refuse_closed(election_id: str, closes_at: datetime, now: datetime, what: str) -> None:
    if closes_at <= now:
        raise OperatorError(f"error: election {election_id!r} closed at {when(closes_at)}; a closed election cannot be {what}")


async def extend_election(conn: asyncpg.Connection, election_id: str, until: datetime, now: datetime, change: Change) -> str:
    """Move `closes_at` later on a scheduled or open election."""
    async with conn.transaction():
        opens_at, closes_at = await times_for_update(conn, election_id)
        _refuse_closed(election_id, closes_at, now, "extended")
        if until <= closes_at:
            raise OperatorError(
                f"error: --until {when(until)} is not later than the election's close time {when(closes_at)};"
                " extend only moves the close later (`ballotline election close` ends it now); nothing was changed"
            )
        await set_times(conn, election_id, opens_at, until, "election.extend", change,
                        {"previous_closes_at": closes_at.isoformat()})
    return f"election {election_id} now closes {when(until)} (was {when(closes_at)})"


async def set_policy(conn: asyncpg.Connection, election_id: str, methods: list[str], now: datetime, change: Change) -> str:
    """Replace the election's login methods (unless they are already exactly these)."""
    async with conn.transaction():
        _opens_at, closes_at = await times_for_update(conn, election_id)
        _refuse_closed(election_id, closes_at, now, "changed")
        current = list(await conn.fetchval("SELECT auth_methods FROM elections WHERE election_id = $1", election_id))
        if current == methods:
            return f"election {election_id} already allows {', '.join(methods)}; nothing changed"
        detail = {"auth_methods": methods, "previous_auth_methods": current,
                  "removed": [m for m in current if m not in methods]}
        await set_auth_methods(conn, election_id, methods, change, detail)
    return f"election {election_id} now allows login by {', '.join(methods)} (was {', '.join(current)})"
