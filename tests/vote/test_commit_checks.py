"""What the committing transaction itself checks (issue 8, "fail-closed"): the election is
still open at COMMIT, and a participation row that cannot be opened refuses one ballot,
not its batch."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.contract.contract import Contract
from tests.factories import now
from tests.tally_keys import outbox_messages

from .conftest import Voter, new_key
from .test_election_phase import move
from .test_idempotency_under_load import table_locked


async def test_a_ballot_that_reaches_commit_after_the_close_is_refused_and_not_stored(vote_client, minter, election, pool):
    voter = Voter(vote_client, minter)
    async with table_locked(pool):  # the ballot passed every check and waits inside its transaction
        pending = asyncio.create_task(voter.cast(key=new_key()))
        await asyncio.sleep(0.3)
        await move(pool, "test-election", now() - timedelta(hours=1), now(), "close")  # the operator closes
    response = await pending
    assert response.status == 409, await response.text()
    problem = await response.json()
    assert problem["code"] == "election_not_open" and "not counted" in problem["detail"]
    assert await pool.fetchval("SELECT count(*) FROM participation") == 0
    assert await pool.fetchval("SELECT count(*) FROM tally_outbox") == 0
    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys") == 0


async def test_a_retry_of_an_acknowledged_ballot_still_gets_its_receipt_in_a_batch_refused_at_the_close(
    make_vote_client, minter, election, pool
):
    client = await make_vote_client(VOTE_BATCH_WAIT_MS="300", VOTE_BATCH_FLUSHERS="1")  # one batch for both
    early, late, key = Voter(client, minter, "v-early"), Voter(client, minter, "v-late"), new_key()
    first = await early.cast(key=key)
    assert first.status == 201
    async with table_locked(pool):
        retry = asyncio.create_task(early.cast(key=key))  # the same request again (a lost answer)
        new = asyncio.create_task(late.cast(key=new_key()))
        await asyncio.sleep(0.5)
        await move(pool, "test-election", now() - timedelta(hours=1), now(), "close")
    replayed, refused = await retry, await new
    assert refused.status == 409 and (await refused.json())["code"] == "election_not_open"
    assert replayed.status == 201 and replayed.headers["Idempotent-Replayed"] == "true"
    assert await replayed.read() == await first.read()
    assert await pool.fetchval("SELECT count(*) FROM participation") == 1


async def test_an_unreadable_participation_row_refuses_that_ballot_and_not_its_batch(
    make_vote_client, minter, revoting_election, pool
):
    client = await make_vote_client(VOTE_BATCH_WAIT_MS="300", VOTE_BATCH_FLUSHERS="1")  # one batch for both
    damaged = Voter(client, minter, "v-damaged", election_id="revote-election")
    other = Voter(client, minter, "v-other", election_id="revote-election")
    assert (await damaged.cast(key=new_key())).status == 201
    # e.g. VOTE_SECRET_KEY replaced under a running election
    await pool.execute("UPDATE participation SET sealed_ballot = '\\x00112233445566778899aabbccddeeff00112233'")
    before = len(await outbox_messages(pool))
    refused, accepted = await asyncio.gather(
        damaged.cast({"mayor": ["bob"], "council": []}, key=new_key()), other.cast(key=new_key())
    )
    assert accepted.status == 201
    assert refused.status == 500
    contract = Contract(await (await client.get("/openapi.json")).json())
    problem = await contract.check(refused)  # the service's own document names this answer
    assert problem["code"] == "participation_unreadable" and "nothing was recorded" in problem["detail"]
    assert len(await outbox_messages(pool)) == before + 1  # only the other voter's ballot
    assert await pool.fetchval("SELECT ballots_cast FROM participation WHERE voter = 'v-damaged'") == 1
