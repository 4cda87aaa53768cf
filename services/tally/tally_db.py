"""Postgres side of the tally: apply a batch of sealed outbox messages exactly once, read
counts.

`apply_batch` takes the oldest outbox rows, opens them, writes the plaintext ballot rows,
marks the ballots they supersede or annul, adds the deltas to the counts and deletes the
rows — in ONE transaction: a worker killed at any point either committed all of it or
none of it. So a re-vote (one message: the new ballot and the one it replaces) is never
half applied, and no snapshot can show both ballots.
- One applier at a time (a transaction-level advisory lock; other workers skip their
  turn), rows taken in outbox_id order: a message is never applied before one it depends
  on (a re-vote's message is inserted after the earlier ballot's message committed, so
  whenever it is visible, so is the earlier one, with a smaller id).
- Ballot rows are inserted in random order, with no time, in a transaction of the
  tally's own: nothing links them to the vote transactions (ARCHITECTURE.md "Secrecy,
  deeper").
- A row that cannot be opened (unknown key, tampered) is left in the outbox and its
  election is held back (no later message of it is applied, they may depend on it); the
  other elections go on. The error is logged and counted until an operator fixes the keys.
- Count rows are upserted in sorted key order, table by table.
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field

import asyncpg
import msgspec

from services.common import outbox
from services.common.sealed_box import Opener, SealError

from .batch import plan
from .counts import Tally

log = logging.getLogger(__name__)
_selections = msgspec.json.Decoder(dict[str, list[str]])
_shuffle = random.SystemRandom().shuffle
APPLY_LOCK = 0x74616C6C  # "tall": one applier at a time, across processes

_CLAIM = """
SELECT outbox_id, election_id, sealed FROM tally_outbox
WHERE NOT (election_id = ANY($2::text[]))
ORDER BY outbox_id LIMIT $1
"""
_INSERT_BALLOTS = """
INSERT INTO ballots (ballot_id, receipt_id, election_id, precinct_id, selections, superseded, annulled)
SELECT b::uuid, r, e, p, s::jsonb, x, a
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::bool[]) AS u(b, r, e, p, s, x, a)
"""
_SUPERSEDE = """
UPDATE ballots SET superseded = true WHERE ballot_id = ANY($1::text[]::uuid[]) AND NOT superseded
RETURNING election_id, precinct_id, selections::text AS selections, NOT annulled AS was_live
"""
_ANNUL = """
UPDATE ballots SET annulled = true WHERE ballot_id = ANY($1::text[]::uuid[]) AND NOT annulled
RETURNING election_id, precinct_id, selections::text AS selections, NOT superseded AS was_live
"""


@dataclass
class Applied:
    rows: int = 0
    elections: set[str] = field(default_factory=set)
    held: dict[str, str] = field(default_factory=dict)  # election_id -> why it is held back


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


async def apply_batch(pool: asyncpg.Pool, limit: int, opener: Opener, held: frozenset[str] = frozenset()) -> Applied:
    """Apply up to `limit` outbox rows of elections not `held`."""
    result = Applied()
    async with pool.acquire() as conn, conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", APPLY_LOCK):
            return result  # another worker is applying; its batch includes these rows
        messages, applied_ids = [], []
        for row in await conn.fetch(_CLAIM, limit, sorted(held)):
            election_id = row["election_id"]
            if election_id in result.held:
                continue
            try:
                message = outbox.decode(opener.open(bytes(row["sealed"]), election_id.encode()))
            except (SealError, outbox.MalformedMessage) as exc:
                result.held[election_id] = f"outbox row {row['outbox_id']}: {exc}"
                continue
            messages.append((election_id, message))
            applied_ids.append(row["outbox_id"])
        if not applied_ids:
            return result
        await conn.execute("DELETE FROM tally_outbox WHERE outbox_id = ANY($1::bigint[])", applied_ids)
        deltas = await _write_ballots(conn, plan(messages))
        await apply_claimed(conn, deltas)
    result.rows, result.elections = len(applied_ids), {e for e, _ in messages}
    return result


async def _write_ballots(conn: asyncpg.Connection, batch) -> dict[str, Tally]:
    deltas: dict[str, Tally] = {}

    def add(election_id: str, precinct_id: str, selections: str, delta: int) -> None:
        deltas.setdefault(election_id, Tally()).add_ballot(precinct_id, _selections.decode(selections), delta)

    for ids, statement in ((batch.supersede, _SUPERSEDE), (batch.annul, _ANNUL)):
        if ids:
            for r in await conn.fetch(statement, ids):
                if r["was_live"]:
                    add(r["election_id"], r["precinct_id"], r["selections"], -1)
    rows = list(batch.new.items())
    _shuffle(rows)  # physical order says nothing about arrival order
    if rows:
        columns = [
            [b for b, _ in rows],
            *([getattr(n, f) for _, n in rows] for f in ("receipt_id", "election_id", "precinct_id", "selections")),
            [n.superseded for _, n in rows],
            [n.annulled for _, n in rows],
        ]
        await conn.execute(_INSERT_BALLOTS, *columns)
    for _, new in rows:
        if new.live:
            add(new.election_id, new.precinct_id, new.selections, 1)
    return deltas


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


async def voters_with_ballot(conn: asyncpg.Connection, election_id: str) -> int:
    """How many voters have a ballot: participation rows, as counted by migration 0005's
    trigger in the same transactions that write them."""
    return await conn.fetchval(
        "SELECT coalesce(sum(voters), 0) FROM participation_counts WHERE election_id = $1", election_id
    )


async def pending_rows(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT count(*) FROM tally_outbox")
