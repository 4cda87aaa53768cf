"""Idempotency and one-ballot-per-voter under concurrency, faults and saturation."""
from __future__ import annotations

import asyncio
import contextlib

from tests.tally_keys import tally_now

from .conftest import Voter, new_key


@contextlib.asynccontextmanager
async def table_locked(pool, table: str = "idempotency_keys"):
    """Hold a lock that makes every ballot transaction wait, as a slow disk would."""
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            await tx.rollback()


async def counts(pool) -> tuple[int, int, int]:
    """(outbox messages, participation rows, live ballots once the tally has run)."""
    messages = await pool.fetchval("SELECT count(*) FROM tally_outbox")
    await tally_now(pool)
    voters = await pool.fetchval("SELECT count(*) FROM participation")
    # the trigger-kept count the tally checks turnout against agrees, under any concurrency
    assert await pool.fetchval("SELECT coalesce(sum(voters), 0) FROM participation_counts") == voters
    return (
        messages,
        voters,
        await pool.fetchval("SELECT count(*) FROM ballots WHERE NOT superseded AND NOT annulled"),
    )


async def test_same_key_while_the_first_is_in_flight_is_409_request_in_progress(vote_client, minter, election, pool):
    voter, key = Voter(vote_client, minter), new_key()
    async with table_locked(pool):
        first = asyncio.create_task(voter.cast(key=key))
        await asyncio.sleep(0.3)
        second = await voter.cast(key=key)
        assert second.status == 409
        assert (await second.json())["code"] == "request_in_progress"
        assert int(second.headers["Retry-After"]) >= 1
    assert (await first).status == 201
    assert await counts(pool) == (1, 1, 1)


async def test_fifty_concurrent_requests_with_one_key_make_one_ballot(vote_client, minter, election, pool):
    voter, key = Voter(vote_client, minter), new_key()
    responses = await asyncio.gather(*(voter.cast(key=key) for _ in range(50)))
    statuses = [r.status for r in responses]
    assert set(statuses) <= {201, 409} and 201 in statuses
    created = {await r.read() for r in responses if r.status == 201}
    assert len(created) == 1  # every 201 is the same receipt, byte for byte
    for r in responses:
        if r.status == 409:
            assert (await r.json())["code"] == "request_in_progress"
    assert await counts(pool) == (1, 1, 1)


async def test_fifty_concurrent_requests_with_fifty_keys_for_one_voter_make_one_ballot(vote_client, minter, election, pool):
    voter = Voter(vote_client, minter)
    responses = await asyncio.gather(*(voter.cast(key=new_key()) for _ in range(50)))
    statuses = sorted(r.status for r in responses)
    assert statuses == [201] + [409] * 49
    assert {(await r.json())["code"] for r in responses if r.status == 409} == {"already_voted"}
    assert await counts(pool) == (1, 1, 1)


async def test_fifty_concurrent_keys_for_one_voter_in_a_revoting_election_leave_one_live_ballot(vote_client, minter, revoting_election, pool):
    voter = Voter(vote_client, minter, election_id="revote-election")
    responses = await asyncio.gather(*(voter.cast(key=new_key()) for _ in range(50)))
    assert all(r.status == 201 for r in responses)
    assert await pool.fetchval("SELECT count(*) FROM tally_outbox") == 50
    await tally_now(pool)
    assert await pool.fetchval("SELECT count(*) FROM ballots WHERE NOT superseded") == 1
    assert await pool.fetchval("SELECT count(*) FROM ballots") == 50
    assert await pool.fetchval("SELECT ballots_cast FROM participation") == 50
    assert await pool.fetchval("SELECT sum(voted) FROM tally_precincts") == 1


async def test_the_same_key_from_two_voters_makes_two_independent_ballots(vote_client, minter, election, pool):
    key = new_key()
    a, b = await asyncio.gather(Voter(vote_client, minter, "v-a").cast(key=key), Voter(vote_client, minter, "v-b").cast(key=key))
    assert a.status == b.status == 201
    assert (await a.json())["receipt"]["receipt_id"] != (await b.json())["receipt"]["receipt_id"]
    assert await counts(pool) == (2, 2, 2)


async def test_a_fault_inside_the_transaction_leaves_nothing_and_the_retry_with_the_same_key_succeeds(vote_client, minter, election, pool):
    await pool.execute(
        "CREATE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN RAISE EXCEPTION 'injected fault'; END $$;"
        "CREATE TRIGGER test_fail BEFORE INSERT ON tally_outbox FOR EACH STATEMENT EXECUTE FUNCTION test_fail()"
    )
    voter, key = Voter(vote_client, minter), new_key()
    try:
        failed = await voter.cast(key=key)
        assert failed.status == 503 and "Retry-After" in failed.headers
        assert "injected" not in await failed.text()
        assert await counts(pool) == (0, 0, 0)
        assert await pool.fetchval("SELECT count(*) FROM idempotency_keys") == 0
    finally:
        await pool.execute("DROP TRIGGER test_fail ON tally_outbox; DROP FUNCTION test_fail()")
    retried = await voter.cast(key=key)
    assert retried.status == 201 and "Idempotent-Replayed" not in retried.headers
    assert await counts(pool) == (1, 1, 1)


async def test_a_saturated_service_answers_503_overloaded_at_once_and_writes_nothing(make_vote_client, minter, election, pool):
    client = await make_vote_client(VOTE_QUEUE_MAX="1", VOTE_BATCH_MAX="1", VOTE_BATCH_FLUSHERS="1")
    a, b, c = (Voter(client, minter, f"v-{n}") for n in "abc")
    async with table_locked(pool):
        first = asyncio.create_task(a.cast(key="k"))
        await asyncio.sleep(0.2)  # taken by the flusher, waiting on the lock
        second = asyncio.create_task(b.cast(key="k"))
        await asyncio.sleep(0.2)  # waiting in the queue, which is now full
        refused = await asyncio.wait_for(c.cast(key="k"), 2)
        assert refused.status == 503
        assert (await refused.json())["code"] == "overloaded" and refused.headers["Retry-After"] == "1"
    assert (await first).status == (await second).status == 201
    assert await counts(pool) == (2, 2, 2)
    assert (await c.cast(key="k")).status == 201
