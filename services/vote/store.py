"""The Postgres adapter: one transaction per batch of ballots (ARCHITECTURE.md "The
write path"), plus the reads the use cases need.

Lock order, the same in every transaction so that concurrent batches (other flushers,
other processes) cannot deadlock: idempotency scopes sorted, then participation rows
sorted by (election, voter). Ballots and outbox rows go in in random order (secrecy).
"""
from __future__ import annotations

import random
from collections.abc import Sequence

import asyncpg

from . import sql
from .batcher import DEFER
from .model import AlreadyVoted, KeyReused, Outcome, PendingBallot, Replay, Written
from .schemas import sealed_ref_decoder
from .sealing import Keyring

_shuffle = random.SystemRandom().shuffle
_RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)


class BallotStore:
    def __init__(self, pool: asyncpg.Pool, keyring: Keyring) -> None:
        self._pool = pool
        self._keys = keyring

    async def write(self, items: Sequence[PendingBallot]) -> list[Outcome | object]:
        outcomes: list[Outcome | object] = [DEFER] * len(items)
        voters: set[tuple[str, str]] = set()
        batch: list[int] = []
        for i, item in enumerate(items):  # a voter's second ballot waits for the next batch
            if (item.election_id, item.voter) not in voters:
                voters.add((item.election_id, item.voter))
                batch.append(i)
        for attempt in range(3):
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    written = await self._write(conn, [items[i] for i in batch])
                break
            except _RETRYABLE:
                if attempt == 2:
                    raise
        for i, outcome in zip(batch, written):
            outcomes[i] = outcome
        return outcomes

    async def _write(self, conn: asyncpg.Connection, items: list[PendingBallot]) -> list[Outcome | object]:
        outcomes: dict[int, Outcome | object] = {}
        order = sorted(range(len(items)), key=lambda i: (items[i].election_id, items[i].scope))
        claimed = {r[0] for r in await conn.fetch(sql.CLAIM_KEYS, *_columns(items, order, sql.CLAIM_FIELDS))}
        taken = [i for i in order if items[i].scope not in claimed]
        if taken:
            outcomes.update(await self._replays(conn, items, taken))
        fresh = sorted((i for i in order if items[i].scope in claimed), key=lambda i: (items[i].election_id, items[i].voter))
        firsts = set()
        if fresh:
            rows = await conn.fetch(sql.INSERT_PARTICIPATION, *_columns(items, fresh, sql.PARTICIPATION_FIELDS))
            firsts = {tuple(r) for r in rows}
        again = [i for i in fresh if (items[i].election_id, items[i].voter) not in firsts]
        refused = [i for i in again if not items[i].revoting]
        if refused:
            await conn.execute(sql.RELEASE_KEYS, *_columns(items, refused, ("election_id", "scope")))
            outcomes.update((i, AlreadyVoted()) for i in refused)
        outbox = []
        revotes = [i for i in again if items[i].revoting]
        if revotes:
            outbox += await self._supersede(conn, items, revotes)
        winners = [i for i in fresh if i not in outcomes]
        _shuffle(winners)
        if winners:
            await conn.execute(sql.INSERT_BALLOTS, *_columns(items, winners, sql.BALLOT_FIELDS))
        outbox += [(items[i].election_id, items[i].ballot_id, 1) for i in winners]
        if outbox:
            _shuffle(outbox)
            await conn.execute(sql.INSERT_OUTBOX, *map(list, zip(*outbox)))
        outcomes.update((i, Written()) for i in winners)
        return [outcomes.get(i, DEFER) for i in range(len(items))]

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

    async def _supersede(self, conn, items, revotes) -> list[tuple[str, str, int]]:
        rows = await conn.fetch(sql.LOCK_PARTICIPATION, *_columns(items, revotes, ("election_id", "voter")))
        earlier = [
            sealed_ref_decoder.decode(self._keys.open_participation(r["election_id"], r["voter"], bytes(r["sealed_ballot"]))).ballot_id
            for r in rows
        ]
        await conn.execute(sql.UPDATE_PARTICIPATION, *_columns(items, revotes, sql.PARTICIPATION_FIELDS))
        superseded = await conn.fetch(sql.SUPERSEDE_BALLOTS, earlier)
        return [(r["election_id"], str(r["ballot_id"]), -1) for r in superseded if not r["annulled"]]

    async def find_answer(self, election_id: str, scope: bytes, fingerprint: bytes) -> Outcome | None:
        row = await self._pool.fetchrow(sql.FIND_KEYS, [election_id], [scope])
        return self._answer(scope, fingerprint, row) if row else None

    async def participation(self, election_id: str, voter: str) -> asyncpg.Record | None:
        return await self._pool.fetchrow(sql.READ_PARTICIPATION, election_id, voter)

    async def delete_expired_keys(self, limit: int = 10_000) -> int:
        return int((await self._pool.execute(sql.DELETE_EXPIRED_KEYS, limit)).split()[-1])


def _columns(items: Sequence[PendingBallot], indexes: Sequence[int], fields: Sequence[str]) -> list[list]:
    return [[getattr(items[i], f) for i in indexes] for f in fields]
