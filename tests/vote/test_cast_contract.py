"""API.md "Vote service": one test per row of the POST /ballots table, and /ballots/mine."""
from __future__ import annotations

import pytest

from services.common.outbox import CastMessage
from tests.tally_keys import outbox_messages, tally_now

from .conftest import SELECTIONS, Voter, new_key


async def ballot_count(pool) -> int:
    """Ballots once the tally has opened the outbox (the vote service writes no ballot rows)."""
    await tally_now(pool)
    return await pool.fetchval("SELECT count(*) FROM ballots")


async def test_a_valid_ballot_is_committed_and_answered_201_with_a_receipt_and_location(vote_client, minter, election, pool):
    response = await Voter(vote_client, minter).cast(key=new_key())
    assert response.status == 201, await response.text()
    receipt = (await response.json())["receipt"]
    assert set(receipt) == {"receipt_id", "election_id", "recorded_at", "fingerprint", "signature", "key_id"}
    assert receipt["election_id"] == "test-election"
    assert receipt["recorded_at"].endswith(":00Z")
    assert response.headers["Location"] == f"/v1/elections/test-election/receipts/{receipt['receipt_id']}"
    assert await pool.fetchval("SELECT count(*) FROM ballots") == 0  # sealed in the outbox until the tally opens it
    [(election_id, message)] = await outbox_messages(pool)
    assert isinstance(message, CastMessage) and election_id == "test-election"
    assert (message.receipt_id, message.precinct_id, message.supersedes) == (receipt["receipt_id"], "p1", None)
    await tally_now(pool)
    row = await pool.fetchrow("SELECT * FROM ballots WHERE receipt_id = $1", receipt["receipt_id"])
    assert row["precinct_id"] == "p1" and not row["superseded"]


async def test_the_receipt_never_states_the_choice(vote_client, minter, election):
    response = await Voter(vote_client, minter).cast(key=new_key())
    text = await response.text()
    for option in ("alice", "green", "red", "mayor", "council"):
        assert option not in text


async def test_missing_idempotency_key_is_refused_with_400_and_nothing_written(vote_client, minter, election, pool):
    response = await Voter(vote_client, minter).cast()
    assert response.status == 400
    assert (await response.json())["code"] == "idempotency_key_invalid"
    assert await ballot_count(pool) == 0


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "caf\u00e9"])
async def test_malformed_idempotency_key_is_refused_with_400(vote_client, minter, election, pool, key):
    response = await Voter(vote_client, minter).cast(headers={"Idempotency-Key": key})
    assert response.status == 400
    assert (await response.json())["code"] == "idempotency_key_invalid"
    assert await ballot_count(pool) == 0


async def test_same_key_and_body_after_completion_replays_the_identical_answer(vote_client, minter, election, pool):
    voter, key = Voter(vote_client, minter), new_key()
    first = await voter.cast(key=key)
    second = await voter.cast(key=key)
    assert second.status == 201
    assert await second.read() == await first.read()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Location"] == first.headers["Location"]
    assert "Idempotent-Replayed" not in first.headers
    assert await ballot_count(pool) == 1


async def test_same_key_with_a_different_body_is_refused_422_and_the_first_ballot_stands(vote_client, minter, election, pool):
    voter, key = Voter(vote_client, minter), new_key()
    assert (await voter.cast(key=key)).status == 201
    response = await voter.cast({"mayor": ["bob"], "council": []}, key=key)
    assert response.status == 422
    assert (await response.json())["code"] == "idempotency_key_reused"
    assert await ballot_count(pool) == 1
    assert "alice" in await pool.fetchval("SELECT selections::text FROM ballots")


async def test_a_new_key_after_voting_is_refused_409_already_voted(vote_client, minter, election, pool):
    voter = Voter(vote_client, minter)
    assert (await voter.cast(key=new_key())).status == 201
    response = await voter.cast({"mayor": ["bob"], "council": []}, key=new_key())
    assert response.status == 409
    assert (await response.json())["code"] == "already_voted"
    assert await ballot_count(pool) == 1
    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys") == 1


async def test_a_new_key_in_a_revoting_election_supersedes_the_earlier_ballot(vote_client, minter, revoting_election, pool):
    voter = Voter(vote_client, minter, election_id="revote-election")
    first = await (await voter.cast(key=new_key())).json()
    second_response = await voter.cast({"mayor": ["bob"], "council": []}, key=new_key())
    assert second_response.status == 201
    second = await second_response.json()
    assert second["receipt"]["receipt_id"] != first["receipt"]["receipt_id"]
    await tally_now(pool)
    rows = {r["receipt_id"]: r["superseded"] for r in await pool.fetch("SELECT receipt_id, superseded FROM ballots")}
    assert rows == {first["receipt"]["receipt_id"]: True, second["receipt"]["receipt_id"]: False}


async def test_a_token_for_another_election_is_refused_403_wrong_election(vote_client, minter, election, pool):
    voter = Voter(vote_client, minter)
    voter.token = minter.mint("v-1", "other-election", "p1")
    response = await voter.cast(key=new_key())
    assert response.status == 403
    assert (await response.json())["code"] == "wrong_election"


async def test_selections_breaking_the_rules_are_refused_422_naming_the_rule(vote_client, minter, election, pool):
    voter = Voter(vote_client, minter)
    cases = {
        "unknown contest": {**SELECTIONS, "senate": []},
        "unknown option": {"mayor": ["zorro"], "council": []},
        "at most 2": {"mayor": [], "council": ["green", "blue", "red"]},
        "chosen twice": {"mayor": [], "council": ["green", "green"]},
        "missing": {"mayor": ["alice"]},
    }
    for rule, selections in cases.items():
        response = await voter.cast(selections, key=new_key())
        assert response.status == 422
        problem = await response.json()
        assert problem["code"] == "invalid_ballot" and rule in problem["detail"], problem
    assert await ballot_count(pool) == 0


async def test_an_empty_list_is_an_abstention(vote_client, minter, election, pool):
    response = await Voter(vote_client, minter).cast({"mayor": [], "council": []}, key=new_key())
    assert response.status == 201


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"selections": {"mayor": "alice"}}', b'{"selections": [1, 2]}', b"[]", b'{"selections": {}, "extra": 1}'],
    ids=["not-json", "wrong-type", "list", "array-body", "unknown-field"],
)
async def test_malformed_json_wrong_types_and_unknown_fields_are_400_malformed_body(vote_client, minter, election, pool, body):
    response = await Voter(vote_client, minter).cast(key=new_key(), body=body)
    assert response.status == 400
    assert response.content_type == "application/problem+json"
    assert (await response.json())["code"] == "malformed_body"
    assert await ballot_count(pool) == 0


async def test_a_body_over_16_kib_is_refused_413(vote_client, minter, election, pool):
    response = await Voter(vote_client, minter).cast(key=new_key(), body=b'{"selections": {"x": ["' + b"a" * 17000 + b'"]}}')
    assert response.status == 413
    assert (await response.json())["code"] == "body_too_large"


async def test_mine_before_voting_says_not_voted(vote_client, minter, election):
    response = await Voter(vote_client, minter).mine()
    assert response.status == 200
    assert await response.json() == {"voted": False, "ballots_cast": 0, "last_recorded_at": None, "receipt": None}


async def test_mine_after_voting_shows_when_and_the_receipt(vote_client, minter, revoting_election):
    voter = Voter(vote_client, minter, election_id="revote-election")
    await voter.cast(key=new_key())
    receipt = (await (await voter.cast({"mayor": ["bob"], "council": []}, key=new_key())).json())["receipt"]
    mine = await (await voter.mine()).json()
    assert mine == {"voted": True, "ballots_cast": 2, "last_recorded_at": receipt["recorded_at"], "receipt": receipt}


async def test_mine_for_another_election_is_403(vote_client, minter, election):
    voter = Voter(vote_client, minter)
    voter.election_id = "other"
    assert (await voter.mine()).status == 403
