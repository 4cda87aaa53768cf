"""Real answers of the results service, each held to its OpenAPI document: elections,
snapshots (200, 304), precinct snapshots, the event stream and receipt status, with a
ballot cast through the real vote service."""
from __future__ import annotations

import asyncio
import uuid

from .conftest import LATER, OPEN, SELECTIONS

RESULTS = f"/v1/elections/{OPEN}/results"


async def published(client, contract) -> dict:
    """The first published snapshot (version 1 and up), once the tally has counted."""
    for _ in range(200):
        snapshot = await contract.check(await client.get(RESULTS))
        if snapshot["version"] > 0 and snapshot["turnout"]["voted"] == 1:
            return snapshot
        await asyncio.sleep(0.05)
    raise AssertionError(f"no snapshot counted the ballot: {snapshot}")


async def cast_one(vote, minter) -> str:
    client, contract = vote
    response = await client.post(
        f"/v1/elections/{OPEN}/ballots",
        json={"selections": SELECTIONS},
        headers={"Authorization": "Bearer " + minter.mint("v-1", OPEN, "p1"), "Idempotency-Key": uuid.uuid4().hex},
    )
    return (await contract.check(response))["receipt"]["receipt_id"]


async def test_every_results_response_matches_its_documented_schema(results, vote, minter):
    client, contract = results
    zero = await contract.check(await client.get(RESULTS))
    assert zero["status"] == "open"
    receipt_id = await cast_one(vote, minter)

    snapshot = await published(client, contract)
    fresh = await client.get(RESULTS, headers={"If-None-Match": f'"{snapshot["version"]}"'})
    assert fresh.status == 304 and await contract.check(fresh) is None
    precinct = await contract.check(await client.get(f"{RESULTS}/precincts/p1"))
    assert precinct["precinct_id"] == "p1"
    missing = await client.get(f"{RESULTS}/precincts/nowhere")
    assert (await contract.check(missing))["code"] == "precinct_not_found"
    status = await contract.check(await client.get(f"/v1/elections/{OPEN}/receipts/{receipt_id}"))
    assert status == {"receipt_id": receipt_id, "status": status["status"]}
    unknown = await client.get(f"/v1/elections/{OPEN}/receipts/no-such-receipt")
    assert (await contract.check(unknown))["code"] == "receipt_not_found"
    assert {status for _, _, status in contract.seen} >= {200, 304, 404}


async def test_every_election_response_matches_its_documented_schema(results):
    client, contract = results
    listed = await contract.check(await client.get("/v1/elections"))
    assert {e["election_id"] for e in listed} == {OPEN, LATER}
    definition = await contract.check(await client.get(f"/v1/elections/{OPEN}"))
    assert {p["channel"] for p in definition["precincts"]} == {"online", "paper"}
    for path in ("/v1/elections/nowhere", "/v1/elections/nowhere/results", "/v1/elections/nowhere/receipts/x"):
        assert (await contract.check(await client.get(path)))["code"] == "election_not_found"


async def test_the_results_stream_answers_with_its_documented_media_type(results):
    client, contract = results
    async with client.get(f"{RESULTS}/stream") as response:
        await contract.check(response, stream=True)
        first = await asyncio.wait_for(response.content.readuntil(b"\n\n"), 5)
        assert first.startswith(b"retry:") or first.startswith(b"event: results")
        response.close()


async def test_every_results_operator_response_matches_its_documented_schema(results):
    client, contract = results
    for path in ("/healthz", "/readyz", "/openapi.json"):
        await contract.check(await client.get(path))


async def test_the_results_of_an_election_not_yet_open_match_the_documented_status(results):
    client, contract = results
    await contract.check(await client.get(f"/v1/elections/{LATER}/results"))
