"""The full recount: counts recomputed from the ballots table, compared with the
incremental counts. A mismatch is reported (alert + metric), never corrected.

The tally writes ballot rows and changes the counts in the same transaction (the outbox
is sealed: pending messages are not ballots yet), so at any one instant

    incremental counts  ==  recount of the live ballots (not superseded, not annulled)

Both sides are read in one REPEATABLE READ transaction (one MVCC snapshot), so the
equation holds at every committed state, even while votes and batches keep committing.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import asyncpg

from .counts import Tally, differences
from .metrics import RECOUNT_MISMATCHES, RECOUNTS
from .tally_db import read_tally

log = logging.getLogger(__name__)

_LIVE = ("ballots b", "b.election_id = $1 AND NOT b.superseded AND NOT b.annulled", "1")


async def _aggregate(conn: asyncpg.Connection, election_id: str, source: tuple[str, str, str] = _LIVE) -> Tally:
    frm, where, weight = source
    tally = Tally()
    lateral = f"{frm} CROSS JOIN LATERAL jsonb_each(b.selections) s"
    for r in await conn.fetch(
        f"SELECT b.precinct_id, s.key, o.value, sum({weight}) FROM {lateral}"
        f" CROSS JOIN LATERAL jsonb_array_elements_text(s.value) o WHERE {where} GROUP BY 1, 2, 3",
        election_id,
    ):
        if r[3]:
            tally.votes[(r[0], r[1], r[2])] = r[3]
    for r in await conn.fetch(
        f"SELECT b.precinct_id, s.key, sum({weight}),"
        f" coalesce(sum({weight}) FILTER (WHERE jsonb_array_length(s.value) = 0), 0)"
        f" FROM {lateral} WHERE {where} GROUP BY 1, 2",
        election_id,
    ):
        if r[2]:
            tally.ballots[(r[0], r[1])] = r[2]
        if r[3]:
            tally.abstentions[(r[0], r[1])] = r[3]
    for r in await conn.fetch(f"SELECT b.precinct_id, sum({weight}) FROM {frm} WHERE {where} GROUP BY 1", election_id):
        if r[1]:
            tally.voted[r[0]] = r[1]
    return tally


@dataclass(frozen=True)
class Recount:
    election_id: str
    live_ballots: int
    pending_rows: int
    differences: list[str]

    @property
    def ok(self) -> bool:
        return not self.differences


async def recount(pool: asyncpg.Pool, election_id: str) -> Recount:
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        live = await _aggregate(conn, election_id)
        counted = await read_tally(conn, election_id)
        pending_rows = await conn.fetchval("SELECT count(*) FROM tally_outbox WHERE election_id = $1", election_id)
    return Recount(election_id, sum(live.voted.values()), pending_rows, differences(live, counted))


async def recount_and_alert(pool: asyncpg.Pool, election_id: str) -> Recount:
    result = await recount(pool, election_id)
    RECOUNTS.inc()
    if not result.ok:
        RECOUNT_MISMATCHES.inc()
        log.error(
            "ALERT: recount of %s disagrees with the incremental tally in %d place(s): %s",
            election_id,
            len(result.differences),
            "; ".join(result.differences[:20]),
            extra={"election_id": election_id, "alert": "recount_mismatch"},
        )
    return result
