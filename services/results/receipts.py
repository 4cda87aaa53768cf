"""Receipt status: `recorded` (committed, not yet tallied), `counted`, `superseded`
(a later ballot of the voter counts) or `annulled`.

Derived on each request by one indexed Postgres query (ballots.receipt_id is unique,
tally_outbox is indexed by ballot_id): statuses change as the tally runs, so a cache
would only serve stale answers, and lookups are rare next to results reads. The
handler bounds lookups in flight per process (503 past it) so a flood of receipt
checks cannot starve the pool.
"""
from __future__ import annotations

import asyncpg

_QUERY = """
SELECT b.annulled, b.superseded,
       EXISTS (SELECT 1 FROM tally_outbox o WHERE o.ballot_id = b.ballot_id AND o.delta = 1) AS pending
FROM ballots b WHERE b.receipt_id = $1 AND b.election_id = $2
"""


def status_of(*, annulled: bool, superseded: bool, pending: bool) -> str:
    if annulled:
        return "annulled"
    if superseded:
        return "superseded"
    return "recorded" if pending else "counted"


async def receipt_status(pool: asyncpg.Pool, election_id: str, receipt_id: str) -> str | None:
    row = await pool.fetchrow(_QUERY, receipt_id, election_id)
    if row is None:
        return None
    return status_of(annulled=row["annulled"], superseded=row["superseded"], pending=row["pending"])
