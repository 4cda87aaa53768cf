"""Real answers of the vote service, each held to its OpenAPI document: the main flow and
every error row of API.md "Vote service" that is cheap to produce."""
from __future__ import annotations

import uuid

import msgspec

from .conftest import LATER, OPEN, SELECTIONS

BALLOTS, MINE = "/v1/elections/{election_id}/ballots", "/v1/elections/{election_id}/ballots/mine"


def new_key() -> str:
    return uuid.uuid4().hex


def cast(client, token: str | None, key: str | None = None, *, election_id: str = OPEN, selections=SELECTIONS,
         body: bytes | None = None):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if key is not None:
        headers["Idempotency-Key"] = key
    data = body if body is not None else msgspec.json.encode({"selections": selections})
    return client.post(f"/v1/elections/{election_id}/ballots", data=data, headers=headers)


async def refused(contract, response, status: int, code: str) -> None:
    body = await contract.check(response)
    assert (response.status, body["code"]) == (status, code), body


async def test_every_vote_response_matches_its_documented_schema(vote, minter):
    client, contract = vote
    token, key = minter.mint("v-1", OPEN, "p1"), new_key()

    first = await cast(client, token, key)
    receipt = (await contract.check(first))["receipt"]
    assert first.status == 201 and first.headers["Location"].endswith("/receipts/" + receipt["receipt_id"])
    replay = await cast(client, token, key)
    assert replay.status == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert await contract.check(replay) and await replay.read() == await first.read()
    await refused(contract, await cast(client, token, key, selections={**SELECTIONS, "mayor": ["bob"]}),
                  422, "idempotency_key_reused")
    await refused(contract, await cast(client, token, new_key()), 409, "already_voted")

    mine = await client.get(f"/v1/elections/{OPEN}/ballots/mine", headers={"Authorization": f"Bearer {token}"})
    assert (await contract.check(mine))["receipt"] == receipt
    nobody = minter.mint("v-2", OPEN, "p2")
    never = await client.get(f"/v1/elections/{OPEN}/ballots/mine", headers={"Authorization": f"Bearer {nobody}"})
    assert (await contract.check(never))["voted"] is False
    await refused(contract, await client.get(f"/v1/elections/{OPEN}/ballots/mine"), 401, "invalid_token")
    other = await client.get(f"/v1/elections/{LATER}/ballots/mine", headers={"Authorization": f"Bearer {nobody}"})
    await refused(contract, other, 403, "wrong_election")
    assert {(s, t) for _, t, s in contract.seen} >= {
        (201, BALLOTS), (409, BALLOTS), (422, BALLOTS), (200, MINE), (401, MINE), (403, MINE)
    }


async def test_every_refused_ballot_matches_its_documented_problem(vote, minter):
    client, contract = vote
    token = minter.mint("v-3", OPEN, "p1")
    await refused(contract, await cast(client, token), 400, "idempotency_key_invalid")
    await refused(contract, await cast(client, token, "has space"), 400, "idempotency_key_invalid")
    await refused(contract, await cast(client, token, new_key(), body=b"{"), 400, "malformed_body")
    await refused(contract, await cast(client, token, new_key(), body=b'{"selections": 1}'), 400, "malformed_body")
    await refused(contract, await cast(client, None, new_key()), 401, "invalid_token")
    await refused(contract, await cast(client, "forged.token.here", new_key()), 401, "invalid_token")
    await refused(contract, await cast(client, minter.mint("v-3", OPEN, "p1", lifetime=-60), new_key()),
                  401, "invalid_token")
    await refused(contract, await cast(client, minter.mint("v-3", LATER, "p1"), new_key()), 403, "wrong_election")
    nowhere = minter.mint("v-3", "nowhere", "p1")
    await refused(contract, await cast(client, nowhere, new_key(), election_id="nowhere"), 404, "election_not_found")
    later = minter.mint("v-3", LATER, "p1")
    await refused(contract, await cast(client, later, new_key(), election_id=LATER), 409, "election_not_open")
    await refused(contract, await cast(client, token, new_key(), body=b" " * (17 * 1024)), 413, "body_too_large")
    await refused(contract, await cast(client, token, new_key(), selections={"mayor": ["alice"]}), 422, "invalid_ballot")
    statuses = {status for method, template, status in contract.seen if template == BALLOTS}
    assert statuses == {400, 401, 403, 404, 409, 413, 422}


async def test_every_vote_key_and_operator_response_matches_its_documented_schema(vote):
    client, contract = vote
    assert (await contract.check(await client.get("/.well-known/jwks.json")))["keys"]
    for path in ("/healthz", "/readyz", "/openapi.json"):
        await contract.check(await client.get(path))
