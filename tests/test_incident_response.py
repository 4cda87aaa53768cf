"""Changing a running election with the real services (two auth and two vote processes'
worth of apps, each with its own catalog, and results), driven by the real `ballotline`
command: `policy` refuses new logins and old tokens by a removed method within a second,
`extend` keeps voting open past the old close, and results publishes the audit log."""
from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services.auth.app import create_app as create_auth
from services.auth.app import load_settings as auth_settings
from services.common.catalog import CATALOG
from services.common.settings import Env
from services.results.app import create_app as create_results
from services.results.app import load_settings as results_settings
from services.vote.app import create_app as create_vote
from services.vote.app import load_settings as vote_settings
from tests.auth.helpers import sign
from tests.factories import create_election, definition, now
from tests.operator_cli import ballotline
from tests.processes import until_ready

ELECTION = "attacked"
KEYS = {f"v{i}": Ed25519PrivateKey.generate() for i in range(1, 7)}
SELECTIONS = {"mayor": ["bob"], "council": ["green"]}


def raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@pytest.fixture
async def system(aiohttp_server, aiohttp_client, pool, redis, service_env):
    roll = [(v, "p1", f"+1555010{i}", raw(k)) for i, (v, k) in enumerate(KEYS.items())]
    await create_election(pool, definition(ELECTION), roll)
    short = definition("short", closes_at=now() + timedelta(seconds=3))
    await create_election(pool, short, roll)
    common = {**service_env, "BALLOTLINE_ENV": "development"}
    auth_servers = [await aiohttp_server(create_auth(auth_settings(Env({**common, "AUTH_SECRET_KEY": "a" * 40}))))
                    for _ in range(2)]
    jwks = str(auth_servers[0].make_url("/.well-known/jwks.json"))
    votes = [await aiohttp_client(create_vote(vote_settings(Env({**common, "VOTE_SECRET_KEY": "v" * 40,
                                                                  "VOTE_JWKS_URL": jwks})))) for _ in range(2)]
    results = await aiohttp_client(create_results(results_settings(Env({**common, "TALLY_INTERVAL_MS": "20"}))))
    auths = [await aiohttp_client(s) for s in auth_servers]
    await until_ready(*auths, *votes, results)
    return auths, votes, results


def catalogs(*clients):
    return [c.server.app[CATALOG] for c in clients]


async def operator(*args: str) -> None:
    code = await ballotline(*args, "--actor", "incident-desk")
    assert code == 0


async def propagated(clients, check, within: float = 1.0) -> float:
    """Seconds until `check(election)` holds in every process's catalog (at most `within`)."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if all(check(c.get(ELECTION) if c.get(ELECTION) else None) for c in catalogs(*clients)):
            return time.monotonic() - started
        await asyncio.sleep(0.01)
    raise AssertionError(f"not every process saw the change within {within}s")


async def otp_token(auth, voter: str, election_id: str = ELECTION) -> str:
    r = await auth.post("/v1/auth/otp", json={"election_id": election_id, "voter_id": voter})
    assert r.status == 202
    challenge = (await r.json())["challenge_id"]
    return await answer_code(auth, voter, challenge, election_id)


async def answer_code(auth, voter: str, challenge: str, election_id: str = ELECTION, status: int = 200):
    for _ in range(100):
        sent = await auth.get(f"/v1/dev/outbox/{election_id}/{voter}")
        if sent.status == 200:
            break
        await asyncio.sleep(0.02)
    r = await auth.post("/v1/auth/otp/verify", json={"challenge_id": challenge, "code": (await sent.json())["code"]})
    assert r.status == status, await r.text()
    return await r.json()


async def signature_token(auth, voter: str) -> str:
    r = await auth.post("/v1/auth/signature", json={"election_id": ELECTION, "voter_id": voter})
    nonce = await r.json()
    r = await auth.post("/v1/auth/signature/verify", json={
        "challenge_id": nonce["challenge_id"], "signature": sign(KEYS[voter], voter, nonce["nonce"], ELECTION)})
    assert r.status == 200, await r.text()
    return (await r.json())["access_token"]


async def cast(vote, token: str, election_id: str = ELECTION):
    return await vote.post(f"/v1/elections/{election_id}/ballots", json={"selections": SELECTIONS},
                           headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())})


async def test_policy_refuses_otp_logins_and_otp_tokens_issued_before_it_within_a_second(system, pool):
    auths, votes, results = system
    old_token = (await otp_token(auths[0], "v1"))["access_token"]
    r = await auths[1].post("/v1/auth/otp", json={"election_id": ELECTION, "voter_id": "v3"})
    pending_challenge = (await r.json())["challenge_id"]  # asked for before the switch, answered after
    await asyncio.sleep(1.0)  # the token was issued a second before the switch

    await operator("election", "policy", ELECTION, "--auth-methods", "signature", "--reason", "codes harvested")
    seconds = await propagated([*auths, *votes, results], lambda e: e.definition.auth_methods == ["signature"])
    print(f"policy reached 2 auth, 2 vote and results catalogs in {seconds * 1000:.0f} ms")

    for vote in votes:
        r = await cast(vote, old_token)
        assert r.status == 403 and (await r.json())["code"] == "auth_method_not_allowed"
    assert await pool.fetchval("SELECT count(*) FROM participation") == 0
    assert await pool.fetchval("SELECT count(*) FROM tally_outbox") == 0
    for auth in auths:
        r = await auth.post("/v1/auth/otp", json={"election_id": ELECTION, "voter_id": "v2"})
        assert r.status == 403 and (await r.json())["code"] == "auth_method_not_allowed"
    refused = await answer_code(auths[1], "v3", pending_challenge, status=403)
    assert refused["code"] == "auth_method_not_allowed"

    # Signature login still works, and its token votes on every vote process.
    assert (await cast(votes[1], await signature_token(auths[1], "v2"))).status == 201
    public = await (await results.get(f"/v1/elections/{ELECTION}")).json()
    assert public["auth_methods"] == ["signature"]


async def test_restoring_a_method_lets_its_tokens_vote_again(system):
    auths, votes, _ = system
    token = (await otp_token(auths[0], "v4"))["access_token"]
    await operator("election", "policy", ELECTION, "--auth-methods", "signature", "--reason", "codes harvested")
    await propagated(votes, lambda e: e.definition.auth_methods == ["signature"])
    assert (await cast(votes[0], token)).status == 403
    await operator("election", "policy", ELECTION, "--auth-methods", "signature,otp", "--reason", "SMS fixed")
    await propagated(votes, lambda e: "otp" in e.definition.auth_methods)
    assert (await cast(votes[0], token)).status == 201


async def test_extend_keeps_voting_open_past_the_old_close_on_every_process(system):
    auths, votes, results = system
    catalog = catalogs(votes[0])[0]
    old_close = catalog.get("short").closes_at
    token = (await otp_token(auths[0], "v5", "short"))["access_token"]
    new_close = old_close + timedelta(hours=1)
    await operator("election", "extend", "short", "--until", new_close.isoformat(), "--reason", "SMS outage")
    started = time.monotonic()
    while not all(c.get("short").closes_at == new_close for c in catalogs(*auths, *votes, results)):
        assert time.monotonic() - started < 1.0, "not every process saw the extension within 1s"
        await asyncio.sleep(0.01)
    await asyncio.sleep(max(0.0, (old_close - now()).total_seconds()) + 0.3)
    assert now() > old_close
    r = await cast(votes[1], token, "short")  # vote's commit-time check reads the new close too
    assert r.status == 201, await r.text()
    listed = {e["election_id"]: e for e in await (await results.get("/v1/elections")).json()}
    assert listed["short"]["status"] == "open"


async def test_results_publishes_the_audit_log_as_a_verifiable_chain(system):
    _, _, results = system
    await operator("election", "extend", ELECTION, "--until", (now() + timedelta(days=5)).isoformat(),
                   "--reason", "queues")
    await operator("election", "policy", ELECTION, "--auth-methods", "signature", "--reason", "codes harvested")
    r = await results.get(f"/v1/elections/{ELECTION}/audit")
    assert r.status == 200 and r.content_type == "application/json"
    body = await r.json()
    entries = body["entries"]
    assert body["election_id"] == ELECTION
    assert [(e["seq"], e["action"], e["actor"], e["reason"]) for e in entries] == [
        (1, "election.create", "system", None),
        (2, "election.extend", "incident-desk", "queues"),
        (3, "election.policy", "incident-desk", "codes harvested"),
    ]
    prev = "sha256:" + "0" * 64
    for e in entries:  # recomputed from API.md's words, not with the project's code
        canonical = json.dumps({k: v for k, v in e.items() if k != "hash"}, sort_keys=True, separators=(",", ":"),
                               ensure_ascii=False)
        assert e["prev_hash"] == prev
        assert e["hash"] == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
        prev = e["hash"]
    assert body["head"] == prev
    assert (await results.get("/v1/elections/nope/audit")).status == 404
