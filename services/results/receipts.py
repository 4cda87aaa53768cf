"""Receipt status: `counted`, `superseded` (a later ballot of the voter counts) or
`annulled`; unknown receipts are 404.

A ballot becomes visible here when the tally takes it from the sealed outbox — in the
same transaction that counts it, normally within a second of its receipt. Before that
its receipt is unknown: the outbox is sealed to the tally key, and nothing in clear
there may name a receipt (it would link the voter's transaction to the ballot row).
So this version never answers `recorded`; the 404's detail says to retry shortly.

Derived on each request by one indexed query (ballots.receipt_id is unique): statuses
change as the tally runs, so a cache would only serve stale answers, and lookups are rare
next to results reads. The handler bounds lookups in flight per process (503 past it)
so a flood of receipt checks cannot starve the pool.
"""
from __future__ import annotations

import asyncpg

_QUERY = "SELECT annulled, superseded FROM ballots WHERE receipt_id = $1 AND election_id = $2"


def status_of(*, annulled: bool, superseded: bool) -> str:
    if annulled:
        return "annulled"
    return "superseded" if superseded else "counted"


async def receipt_status(pool: asyncpg.Pool, election_id: str, receipt_id: str) -> str | None:
    row = await pool.fetchrow(_QUERY, receipt_id, election_id)
    if row is None:
        return None
    return status_of(annulled=row["annulled"], superseded=row["superseded"])
