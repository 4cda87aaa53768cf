"""The Postgres adapter: one transaction per batch of ballots (ARCHITECTURE.md "The
write path"), plus the reads the use cases need.

A batch writes idempotency keys, participation rows and, per ballot, ONE outbox message
sealed to the tally key: the new ballot and the earlier ballot it supersedes, together
(services/common/outbox.py). No ballot row, no choice in clear: nothing this transaction
writes — rows, their transaction id, WAL records — links the voter to a choice.

Lock order, the same in every transaction so that concurrent batches (other flushers,
other processes) cannot deadlock: idempotency scopes sorted, then participation rows
sorted by (election, voter), then the elections' rows (FOR SHARE) just before COMMIT.
Outbox rows go in in random order.
"""
from __future__ import annotations

import random
from collections.abc import Sequence

import asyncpg
from cryptography.exceptions import InvalidTag

from services.common import outbox
from services.common.sealed_box import Sealer

from . import sql
from .batcher import DEFER
from .model import AlreadyVoted, Closed, KeyReused, Outcome, PendingBallot, Replay, Unreadable, Written
from .schemas import sealed_ref_decoder
from .sealing import Keyring

_shuffle = random.SystemRandom().shuffle
_RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)


class _Closed(Exception):
    """Raised before COMMIT when an election of the batch stopped accepting ballots."""

    def __init__(self, elections: set[str]) -> None:
        super().__init__(", ".join(sorted(elections)))
        self.elections = elections


class BallotStore:
    def __init__(self, pool: asyncpg.Pool, keyring: Keyring, sealer: Sealer) -> None:
        self._pool = pool
        self._keys = keyring
        self._sealer = sealer

    async def write(self, items: Sequence[PendingBallot]) -> list[Outcome | object]:
        outcomes: list[Outcome | object] = [DEFER] * len(items)
        voters: set[tuple[str, str]] = set()
        batch: list[int] = []
        for i, item in enumerate(items):  # a voter's second ballot waits for the next batch
            if (item.election_id, item.voter) not in voters:
                voters.add((item.election_id, item.voter))
                batch.append(i)
        closed: set[str] = set()  # elections found closed at COMMIT time: their new ballots are refused
        attempt = 0
        while True:
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    written = await self._write(conn, [items[i] for i in batch], closed)
                break
            except _Closed as change:  # rolled back; write the batch again, refusing those
                closed |= change.elections
            except _RETRYABLE:
                attempt += 1
                if attempt == 3:
                    raise
        for i, outcome in zip(batch, written):
            outcomes[i] = outcome
        return outcomes

    async def _write(self, conn: asyncpg.Connection, items: list[PendingBallot], closed: set[str]) -> list[Outcome | object]:
        outcomes: dict[int, Outcome | object] = {}
        order = sorted(range(len(items)), key=lambda i: (items[i].election_id, items[i].scope))
        claimed = {r[0] for r in await conn.fetch(sql.CLAIM_KEYS, *_columns(items, order, sql.CLAIM_FIELDS))}
        taken = [i for i in order if items[i].scope not in claimed]
        if taken:
            outcomes.update(await self._replays(conn, items, taken))
        fresh = sorted((i for i in order if items[i].scope in claimed), key=lambda i: (items[i].election_id, items[i].voter))
        late = [i for i in fresh if items[i].election_id in closed]  # replays above are still answered
        outcomes.update((i, Closed()) for i in late)
        fresh = [i for i in fresh if i not in outcomes]
        firsts = set()
        if fresh:
            rows = await conn.fetch(sql.INSERT_PARTICIPATION, *_columns(items, fresh, sql.PARTICIPATION_FIELDS))
            firsts = {tuple(r) for r in rows}
        again = [i for i in fresh if (items[i].election_id, items[i].voter) not in firsts]
        outcomes.update((i, AlreadyVoted()) for i in again if not items[i].revoting)
        revotes = [i for i in again if items[i].revoting]
        earlier = await self._supersede(conn, items, revotes, outcomes) if revotes else {}
        released = late + [i for i in again if i in outcomes]
        if released:
            await conn.execute(sql.RELEASE_KEYS, *_columns(items, released, ("election_id", "scope")))
        winners = [i for i in fresh if i not in outcomes]
        if winners:
            await conn.execute(sql.INSERT_OUTBOX, *self._sealed_messages(items, winners, earlier))
            outcomes.update((i, Written()) for i in winners)
            rows = await conn.fetch(sql.STILL_OPEN, sorted({items[i].election_id for i in winners}))
            still_open = {r["election_id"] for r in rows if r["open"]}
            closing = {items[i].election_id for i in winners} - still_open
            if closing:
                raise _Closed(closing)
        return [outcomes.get(i, DEFER) for i in range(len(items))]

    def _sealed_messages(self, items, winners, earlier: dict[int, str]) -> list[list]:
        """One sealed message per ballot, under one ephemeral key, in random order."""
        sealer = self._sealer.batch()
        rows = []
        for i in winners:
            item = items[i]
            message = outbox.CastMessage(item.ballot_id, item.receipt_id, item.precinct_id, item.selections, earlier.get(i))
            election = item.election_id.encode()
            rows.append((item.election_id, sealer.seal(outbox.encode(message, item.message_size), election)))
        _shuffle(rows)
        return [list(column) for column in zip(*rows)]

    async def _replays(self, conn, items, taken) -> dict[int, Outcome]:
        rows = await conn.fetch(sql.FIND_KEYS, *_columns(items, taken, ("election_id", "scope")))
        stored = {(r["election_id"], r["scope"]): r for r in rows}
        out: dict[int, Outcome] = {}
        for i in taken:
            row = stored.get((items[i].election_id, items[i].scope))
            if row is not None:  # else: removed meanwhile; DEFER retries it
                out[i] = self._answer(items[i].scope, items[i].request_fingerprint, row)
        return out

    def _answer(self, scope: bytes, fingerprint: bytes, row: asyncpg.Record) -> Outcome:
        if bytes(row["request_fingerprint"]) != fingerprint:
            return KeyReused()
        return Replay(row["status"], self._keys.open_response(scope, bytes(row["sealed_response"])))

    async def _supersede(self, conn, items, revotes, outcomes) -> dict[int, str]:
        """Lock the re-voters' participation rows, open each one's live ballot id and
        point the row at the new ballot. A row that cannot be opened refuses that one
        ballot (Unreadable); the batch goes on."""
        rows = await conn.fetch(sql.LOCK_PARTICIPATION, *_columns(items, revotes, ("election_id", "voter")))
        sealed = {(r["election_id"], r["voter"]): bytes(r["sealed_ballot"]) for r in rows}
        earlier: dict[int, str] = {}
        for i in revotes:
            election_id, voter = items[i].election_id, items[i].voter
            try:
                opened = self._keys.open_participation(election_id, voter, sealed[(election_id, voter)])
                earlier[i] = sealed_ref_decoder.decode(opened).ballot_id
            except (InvalidTag, ValueError, KeyError):
                outcomes[i] = Unreadable()
        readable = [i for i in revotes if i in earlier]
        if readable:
            await conn.execute(sql.UPDATE_PARTICIPATION, *_columns(items, readable, sql.PARTICIPATION_FIELDS))
        return earlier

    async def find_answer(self, election_id: str, scope: bytes, fingerprint: bytes) -> Outcome | None:
        row = await self._pool.fetchrow(sql.FIND_KEYS, [election_id], [scope])
        return self._answer(scope, fingerprint, row) if row else None

    async def participation(self, election_id: str, voter: str) -> asyncpg.Record | None:
        return await self._pool.fetchrow(sql.READ_PARTICIPATION, election_id, voter)

    async def delete_expired_keys(self, limit: int = 10_000) -> int:
        return int((await self._pool.execute(sql.DELETE_EXPIRED_KEYS, limit)).split()[-1])


def _columns(items: Sequence[PendingBallot], indexes: Sequence[int], fields: Sequence[str]) -> list[list]:
    return [[getattr(items[i], f) for i in indexes] for f in fields]
