"""The three real services together, in one process: a voter logs in with auth, votes
with vote (which trusts auth's published keys), and results counts the ballot exactly
once. Also: once tallied, nothing SQL can read links a participation row to a ballot."""
from __future__ import annotations

import asyncio
import json
import random
import uuid

import pytest

from services.auth.app import create_app as create_auth
from services.auth.app import load_settings as auth_settings
from services.common.settings import Env
from services.results.app import create_app as create_results
from services.results.app import load_settings as results_settings
from services.vote.app import create_app as create_vote
from services.vote.app import load_settings as vote_settings
from tests.factories import create_election, definition
from tests.processes import until_ready
from tests.tally_keys import ENV as TALLY_ENV

VOTERS = [(f"voter-{i}", "p1" if i % 2 else "p2", f"+1555000{i:04d}", None) for i in range(1, 21)]
SELECTIONS = {"mayor": ["bob"], "council": ["green", "gold"]}


@pytest.fixture
async def system(aiohttp_server, aiohttp_client, pool, redis, database_url, redis_url):
    await create_election(pool, definition("e2e"), VOTERS)
    common = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "BALLOTLINE_ENV": "development", **TALLY_ENV}
    auth = await aiohttp_server(create_auth(auth_settings(Env({**common, "AUTH_SECRET_KEY": "a" * 40}))))
    vote = await aiohttp_client(create_vote(vote_settings(Env({
        **common,
        "VOTE_SECRET_KEY": "v" * 40,
        "VOTE_JWKS_URL": str(auth.make_url("/.well-known/jwks.json")),
    }))))
    results = await aiohttp_client(create_results(results_settings(Env({**common, "TALLY_INTERVAL_MS": "20"}))))
    auth_client = await aiohttp_client(auth)
    await until_ready(auth_client, vote, results)
    return auth_client, vote, results


async def login(auth, voter_id: str) -> str:
    r = await auth.post("/v1/auth/otp", json={"election_id": "e2e", "voter_id": voter_id})
    assert r.status == 202
    challenge = (await r.json())["challenge_id"]
    code = (await (await auth.get(f"/v1/dev/outbox/e2e/{voter_id}")).json())["code"]
    r = await auth.post("/v1/auth/otp/verify", json={"challenge_id": challenge, "code": code})
    assert r.status == 200, await r.text()
    return (await r.json())["access_token"]


async def cast(vote, token: str) -> dict:
    r = await vote.post(
        "/v1/elections/e2e/ballots",
        json={"selections": SELECTIONS},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status == 201, await r.text()
    return (await r.json())["receipt"]


async def results_when(results, voted: int) -> dict:
    for _ in range(200):
        snapshot = await (await results.get("/v1/elections/e2e/results")).json()
        if snapshot["turnout"]["voted"] == voted:
            return snapshot
        await asyncio.sleep(0.05)
    raise AssertionError(f"results never showed {voted} voters: {snapshot}")


async def test_a_voter_logs_in_votes_and_the_ballot_is_counted_once_in_results(system):
    auth, vote, results = system
    token = await login(auth, "voter-7")
    receipt = await cast(vote, token)

    snapshot = await results_when(results, 1)
    mayor = next(c for c in snapshot["contests"] if c["contest_id"] == "mayor")
    assert {o["option_id"]: o["votes"] for o in mayor["options"]} == {"alice": 0, "bob": 1, "carol": 0}
    assert snapshot["turnout"]["eligible"] == len(VOTERS)
    status = await (await results.get(f"/v1/elections/e2e/receipts/{receipt['receipt_id']}")).json()
    assert status["status"] == "counted"
    second = await vote.post(
        "/v1/elections/e2e/ballots",
        json={"selections": SELECTIONS},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert second.status == 409 and (await second.json())["code"] == "already_voted"


async def test_once_tallied_no_ballot_shares_a_transaction_with_a_participation_row(system, pool):
    auth, vote, results = system
    tokens = [await login(auth, voter_id) for voter_id, *_ in VOTERS[:8]]
    for token in tokens:  # one at a time: each ballot alone in its vote transaction
        await cast(vote, token)
    await results_when(results, 8)

    participation = {r[0] for r in await pool.fetch("SELECT xmin::text FROM participation")}
    ballots = {r[0] for r in await pool.fetch("SELECT xmin::text FROM ballots")}
    assert len(participation) == 8
    assert participation.isdisjoint(ballots)


def _junk_bodies(rng: random.Random, n: int) -> list[bytes]:
    """Random bytes, JSON of the wrong shape and near-misses of the real bodies."""
    values = [None, True, 0, -1, 1e308, "", "x" * 300, [], {}, ["mayor"], {"selections": None}]
    bodies: list[bytes] = []
    for _ in range(n):
        kind = rng.randrange(4)
        if kind == 0:
            bodies.append(rng.randbytes(rng.randrange(1, 64)))
        elif kind == 1:
            bodies.append(json.dumps(rng.choice(values)).encode())
        elif kind == 2:
            keys = ["election_id", "voter_id", "challenge_id", "code", "signature", "selections", "extra"]
            bodies.append(json.dumps({rng.choice(keys): rng.choice(values) for _ in range(rng.randrange(1, 4))}).encode())
        else:
            selections = {rng.choice(["mayor", "council", "nope"]): rng.choice([["bob"], ["bob", "bob"], [1], "bob", []])}
            bodies.append(json.dumps({"selections": selections}).encode())
    return bodies


async def test_no_malformed_body_makes_any_service_answer_5xx(system):
    auth, vote, _ = system
    token = await login(auth, "voter-3")
    targets = [
        (auth, "/v1/auth/otp", {}),
        (auth, "/v1/auth/otp/verify", {}),
        (auth, "/v1/auth/signature", {}),
        (auth, "/v1/auth/signature/verify", {}),
        (vote, "/v1/elections/e2e/ballots", {"Authorization": f"Bearer {token}"}),
    ]
    rng = random.Random(2026)
    for body in _junk_bodies(rng, 300):
        client, path, headers = rng.choice(targets)
        r = await client.post(path, data=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
        assert r.status < 500, (path, body, r.status, await r.text())
        if r.status >= 400:
            assert r.content_type == "application/problem+json", (path, body)
