"""Postgres side of the tally: apply a batch of outbox rows exactly once, read counts.

`apply_batch` claims outbox rows, adds their deltas to the counts and deletes them in ONE
transaction: a worker killed at any point either committed all of it or none of it.
- `FOR UPDATE SKIP LOCKED` lets several workers claim disjoint batches.
- A row is claimable only when no earlier row of the same ballot is pending, so a
  ballot's -1 (re-vote, annulment) is never applied before its +1 — committed counts
  are never negative, whichever worker is faster.
- The claimed ballots' rows are rewritten (see `restamped`) to unlink them from the
  participation rows written in the same vote transaction.
- Count rows are upserted in sorted key order, table by table, so two workers lock rows
  in one global order and cannot deadlock (a deadlock would still only roll back).
"""
from __future__ import annotations

import asyncpg
import msgspec

from .counts import Tally

_selections = msgspec.json.Decoder(dict[str, list[str]])

CLAIM = """
WITH claimed AS (
    DELETE FROM tally_outbox WHERE outbox_id IN (
        SELECT o.outbox_id FROM tally_outbox o
        WHERE NOT EXISTS (
            SELECT 1 FROM tally_outbox e WHERE e.ballot_id = o.ballot_id AND e.outbox_id < o.outbox_id)
        ORDER BY o.outbox_id
        LIMIT $1
        FOR UPDATE SKIP LOCKED)
    RETURNING ballot_id, delta),
restamped AS (
    -- Ballot secrecy: a ballot row inserted with its voter's participation row shares
    -- that transaction's id (xmin), which SQL can read. Rewriting the row here gives it
    -- the tally's transaction id, shared by every ballot of the batch, so the link is
    -- gone once a ballot is tallied (the old row version is invisible, then vacuumed).
    UPDATE ballots b SET annulled = b.annulled FROM claimed c WHERE b.ballot_id = c.ballot_id
    RETURNING b.ballot_id, b.election_id, b.precinct_id, b.selections)
SELECT r.election_id, r.precinct_id, r.selections::text AS selections, c.delta
FROM claimed c JOIN restamped r ON r.ballot_id = c.ballot_id
"""

_UPSERT_VOTES = """
INSERT INTO tally_votes (election_id, precinct_id, contest_id, option_id, votes)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])
ON CONFLICT (election_id, precinct_id, contest_id, option_id)
DO UPDATE SET votes = tally_votes.votes + EXCLUDED.votes
"""
_UPSERT_CONTESTS = """
INSERT INTO tally_contests (election_id, precinct_id, contest_id, ballots, abstentions)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
ON CONFLICT (election_id, precinct_id, contest_id)
DO UPDATE SET ballots = tally_contests.ballots + EXCLUDED.ballots,
              abstentions = tally_contests.abstentions + EXCLUDED.abstentions
"""
_UPSERT_PRECINCTS = """
INSERT INTO tally_precincts (election_id, precinct_id, voted)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
ON CONFLICT (election_id, precinct_id) DO UPDATE SET voted = tally_precincts.voted + EXCLUDED.voted
"""


def deltas_of(rows) -> dict[str, Tally]:
    """The rows' deltas per election: each row is (election_id, precinct_id, selections, delta)."""
    out: dict[str, Tally] = {}
    for row in rows:
        selections = _selections.decode(row["selections"])
        out.setdefault(row["election_id"], Tally()).add_ballot(row["precinct_id"], selections, row["delta"])
    return out


async def apply_claimed(conn: asyncpg.Connection, deltas: dict[str, Tally]) -> None:
    """Add the deltas to the counts (inside the caller's transaction), in sorted key order."""
    votes = sorted((e, *k, n) for e, t in deltas.items() for k, n in t.votes.items())
    contest_keys = sorted({(e, *k) for e, t in deltas.items() for k in (*t.ballots, *t.abstentions)})
    contests = [(*k, deltas[k[0]].ballots.get(k[1:], 0), deltas[k[0]].abstentions.get(k[1:], 0)) for k in contest_keys]
    precincts = sorted((e, p, n) for e, t in deltas.items() for p, n in t.voted.items())
    if votes:
        await conn.execute(_UPSERT_VOTES, *map(list, zip(*votes)))
    if contests:
        await conn.execute(_UPSERT_CONTESTS, *map(list, zip(*contests)))
    if precincts:
        await conn.execute(_UPSERT_PRECINCTS, *map(list, zip(*precincts)))


async def apply_batch(pool: asyncpg.Pool, limit: int) -> tuple[int, set[str]]:
    """Apply up to `limit` outbox rows; return how many and which elections changed."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(CLAIM, limit)
        deltas = deltas_of(rows)
        await apply_claimed(conn, deltas)
    return len(rows), set(deltas)


async def read_tally(conn: asyncpg.Connection, election_id: str) -> Tally:
    tally = Tally()
    for r in await conn.fetch(
        "SELECT precinct_id, contest_id, option_id, votes FROM tally_votes WHERE election_id = $1 AND votes <> 0",
        election_id,
    ):
        tally.votes[(r[0], r[1], r[2])] = r[3]
    for r in await conn.fetch(
        "SELECT precinct_id, contest_id, ballots, abstentions FROM tally_contests WHERE election_id = $1", election_id
    ):
        if r[2]:
            tally.ballots[(r[0], r[1])] = r[2]
        if r[3]:
            tally.abstentions[(r[0], r[1])] = r[3]
    for r in await conn.fetch(
        "SELECT precinct_id, voted FROM tally_precincts WHERE election_id = $1 AND voted <> 0", election_id
    ):
        tally.voted[r[0]] = r[1]
    return tally


async def read_eligible(conn: asyncpg.Connection, election_id: str) -> dict[str, int]:
    rows = await conn.fetch("SELECT precinct_id, eligible FROM precincts WHERE election_id = $1", election_id)
    return {r[0]: r[1] for r in rows}


async def pending_rows(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT count(*) FROM tally_outbox")
