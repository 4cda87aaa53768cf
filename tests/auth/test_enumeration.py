"""Nobody learns from the auth service whether a voter exists, votes on paper, has a
phone or key, or whether the election is open: every such request is answered like a
real one, and its decoy challenge behaves like a real one on verify. Only a login
method the election does not accept is refused openly (its methods are public), and
that answer is the same for every voter id."""
from __future__ import annotations

import asyncio
import time

import pytest

from services.common.catalog import CATALOG
from services.common.election import Contest, Option, Precinct
from tests.factories import create_election, definition

from .helpers import request_code, sign, verify_code, verify_signature

IGNORED_HEADERS = {"x-request-id", "date", "content-length", "server"}

OTP_CASES = [
    ("test-election", "alice"),  # the real one, first
    ("test-election", "nobody"),  # not on the roll
    ("test-election", "paul"),  # paper precinct
    ("test-election", "nora"),  # no phone
    ("closed-election", "alice"),  # election not open
    ("no-such-election", "alice"),
]


@pytest.fixture
async def sig_only(pool, roll):
    d = definition("sig-only", auth_methods=["signature"],
                   contests=[Contest("c", "C", [Option("a", "A")])], precincts=[Precinct("p1", "P", "online")])
    await create_election(pool, d, [("sam", "p1", "+15550100", roll["alice"])])


def shape(response, body: dict) -> tuple:
    headers = sorted((k.lower(), v) for k, v in response.headers.items() if k.lower() not in IGNORED_HEADERS)
    types = {k: type(v).__name__ for k, v in body.items()}
    return response.status, response.content_type, headers, types, body.get("expires_in")


async def test_code_requests_for_any_voter_or_election_look_the_same(client, sig_only):
    shapes, durations = [], []
    for election_id, voter_id in OTP_CASES:
        started = time.perf_counter()
        response = await client.post("/v1/auth/otp", json={"election_id": election_id, "voter_id": voter_id})
        durations.append(time.perf_counter() - started)
        shapes.append(shape(response, await response.json()))
    assert all(s == shapes[0] for s in shapes), shapes
    assert shapes[0][0] == 202
    assert max(durations) < 0.5  # no answer waits for a delivery


async def test_decoy_code_challenges_fail_and_lock_like_real_ones(client, sig_only):
    outcomes = []
    for election_id, voter_id in OTP_CASES:
        challenge_id = await request_code(client, voter_id, election_id)
        answers = [await verify_code(client, challenge_id, "000000") for _ in range(6)]
        outcomes.append([(r.status, (await r.json())["code"], "Retry-After" in r.headers) for r in answers])
    assert all(o == outcomes[0] for o in outcomes), outcomes
    assert [status for status, _, _ in outcomes[0]] == [401, 401, 401, 401, 429, 429]


async def test_signature_requests_and_decoys_behave_like_real_ones(client, roll, sig_only, voter_keys):
    cases = [("test-election", "alice"), ("test-election", "nobody"), ("test-election", "paul"),
             ("test-election", "nora"), ("closed-election", "alice")]
    outcomes = []
    for election_id, voter_id in cases:
        response = await client.post("/v1/auth/signature", json={"election_id": election_id, "voter_id": voter_id})
        body = await response.json()
        assert shape(response, body) == (200, "application/json", [("cache-control", "no-store"),
                                                                   ("content-type", "application/json")],
                                          {"challenge_id": "str", "nonce": "str", "expires_in": "int"}, 300)
        # A valid signature by *some* key the attacker holds, but not the registered one.
        signature = sign(voter_keys["bob"], voter_id, body["nonce"], election_id)
        answers = [await verify_signature(client, body["challenge_id"], signature) for _ in range(6)]
        outcomes.append([(r.status, (await r.json())["code"]) for r in answers])
    assert all(o == outcomes[0] for o in outcomes), outcomes
    assert outcomes[0][0] == (401, "invalid_signature") and outcomes[0][4] == (429, "challenge_locked")


async def test_nothing_is_sent_for_a_decoy(client, roll):
    await request_code(client, "nobody")
    await request_code(client, "paul")
    await request_code(client, "alice", "closed-election")
    for election_id, voter_id in (("test-election", "nobody"), ("test-election", "paul"), ("closed-election", "alice")):
        assert (await client.get(f"/v1/dev/outbox/{election_id}/{voter_id}")).status == 404


async def test_a_method_the_election_does_not_accept_is_refused_the_same_for_any_voter(client, sig_only):
    # The app started before sig-only existed: it learns of it by NOTIFY.
    for _ in range(100):
        if client.server.app[CATALOG].get("sig-only"):
            break
        await asyncio.sleep(0.01)
    answers = []
    for voter_id in ("sam", "nobody", "alice"):
        response = await client.post("/v1/auth/otp", json={"election_id": "sig-only", "voter_id": voter_id})
        body = await response.json()
        answers.append((response.status, body["code"], body["detail"]))
    assert answers[0][:2] == (403, "auth_method_not_allowed")
    assert all(a == answers[0] for a in answers)
