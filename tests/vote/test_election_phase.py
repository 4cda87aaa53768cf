"""Ballots are accepted only while the election is open; an operator's open/close takes
effect within a second; acknowledged ballots stay replayable after closing."""
from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from services.common.elections_db import set_times
from tests.factories import now

from .conftest import Voter, new_key


async def move(pool, election_id: str, opens_at, closes_at, action: str) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await set_times(conn, election_id, opens_at, closes_at, action)


async def seconds_until(attempt, wanted: int, seconds: float = 1.0) -> float:
    started = time.monotonic()
    n = 0
    while time.monotonic() - started < seconds:
        n += 1
        if (await attempt(n)).status == wanted:
            return time.monotonic() - started
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {wanted} within {seconds}s")


async def test_a_ballot_before_opening_is_409_election_not_open(vote_client, minter, pool):
    response = await Voter(vote_client, minter, election_id="later-election").cast(key=new_key())
    assert response.status == 409
    assert (await response.json())["code"] == "election_not_open"
    assert await pool.fetchval("SELECT count(*) FROM tally_outbox") == 0


async def test_opening_and_closing_take_effect_within_one_second(vote_client, minter, pool):
    voter, key = Voter(vote_client, minter, election_id="later-election"), new_key()
    await move(pool, "later-election", now() - timedelta(seconds=1), now() + timedelta(days=1), "open")
    assert await seconds_until(lambda n: voter.cast(key=key), 201) < 1.0
    await move(pool, "later-election", now() - timedelta(hours=1), now(), "close")
    # A new voter each time: one who got in just before the close would be answered 409
    # already_voted (or a replay) afterwards, not election_not_open.
    late = lambda n: Voter(vote_client, minter, f"v-late-{n}", election_id="later-election").cast(key=new_key())  # noqa: E731
    assert await seconds_until(late, 409) < 1.0
    response = await late(0)
    assert (await response.json())["code"] == "election_not_open"


async def test_after_closing_a_retry_of_an_acknowledged_ballot_still_gets_its_receipt(vote_client, minter, election, pool):
    voter, key = Voter(vote_client, minter), new_key()
    first = await voter.cast(key=key)
    await move(pool, "test-election", now() - timedelta(hours=1), now(), "close")
    await asyncio.sleep(0.3)
    assert (await Voter(vote_client, minter, "v-2").cast(key=new_key())).status == 409
    replay = await voter.cast(key=key)
    assert replay.status == 201 and await replay.read() == await first.read()
    assert replay.headers["Idempotent-Replayed"] == "true"


async def test_replays_come_from_postgres_and_survive_a_redis_flush(vote_client, minter, election, redis):
    voter, key = Voter(vote_client, minter), new_key()
    first = await voter.cast(key=key)
    await redis.flushall()
    replay = await voter.cast(key=key)
    assert replay.status == 201 and await replay.read() == await first.read()


async def test_idempotency_keys_are_deleted_only_24_hours_after_their_election_closed(vote_client, minter, election, revoting_election, pool):
    from services.vote.app import STORE

    await Voter(vote_client, minter).cast(key=new_key())
    await Voter(vote_client, minter, election_id="revote-election").cast(key=new_key())
    await pool.execute("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'")
    await move(pool, "revote-election", now() - timedelta(days=3), now() - timedelta(hours=25), "close")
    assert await vote_client.server.app[STORE].delete_expired_keys() == 1
    assert await pool.fetchval("SELECT election_id FROM idempotency_keys") == "test-election"
