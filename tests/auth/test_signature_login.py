"""POST /v1/auth/signature and /v1/auth/signature/verify."""
from __future__ import annotations

import asyncio

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .helpers import claims_of, request_nonce, sign, verify_signature


async def test_a_signature_challenge_answers_200_with_a_nonce(client, roll):
    response = await client.post("/v1/auth/signature", json={"election_id": "test-election", "voter_id": "alice"})
    assert response.status == 200
    body = await response.json()
    assert set(body) == {"challenge_id", "nonce", "expires_in"} and body["expires_in"] == 300
    assert len(body["nonce"]) >= 32


async def test_signing_the_login_message_with_the_registered_key_logs_in(client, roll, voter_keys):
    challenge = await request_nonce(client, "alice")
    signature = sign(voter_keys["alice"], "alice", challenge["nonce"])
    response = await verify_signature(client, challenge["challenge_id"], signature)
    assert response.status == 200
    body = await response.json()
    assert body["token_type"] == "Bearer"
    claims = await claims_of(client, body["access_token"])
    assert claims.amr == ["sig"] and claims.pct == "p1"


async def test_a_padded_base64url_signature_is_accepted_too(client, roll, voter_keys):
    challenge = await request_nonce(client, "alice")
    signature = sign(voter_keys["alice"], "alice", challenge["nonce"])
    response = await verify_signature(client, challenge["challenge_id"], signature + "=" * (-len(signature) % 4))
    assert response.status == 200


async def test_the_key_of_another_voter_is_401_invalid_signature(client, roll, voter_keys):
    challenge = await request_nonce(client, "alice")
    signature = sign(voter_keys["bob"], "alice", challenge["nonce"])
    response = await verify_signature(client, challenge["challenge_id"], signature)
    assert response.status == 401 and (await response.json())["code"] == "invalid_signature"


async def test_a_signature_over_another_nonce_or_voter_is_rejected(client, roll, voter_keys):
    key = voter_keys["alice"]
    makers = [lambda n: sign(key, "alice", "other-nonce"), lambda n: sign(key, "bob", n),
              lambda n: sign(key, "alice", n, election_id="closed-election"), lambda n: "not base64!",
              lambda n: "", lambda n: sign(key, "alice", n)[:-4]]
    for i, make in enumerate(makers):
        if i % 4 == 0:  # the 5th wrong answer would lock the challenge
            challenge = await request_nonce(client, "alice")
        response = await verify_signature(client, challenge["challenge_id"], make(challenge["nonce"]))
        assert response.status == 401 and (await response.json())["code"] == "invalid_signature"


async def test_five_bad_signatures_burn_the_challenge(client, roll, voter_keys):
    challenge = await request_nonce(client, "alice")
    stranger = Ed25519PrivateKey.generate()
    bad = sign(stranger, "alice", challenge["nonce"])
    statuses = [(await verify_signature(client, challenge["challenge_id"], bad)).status for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    good = sign(voter_keys["alice"], "alice", challenge["nonce"])
    response = await verify_signature(client, challenge["challenge_id"], good)
    assert response.status == 429 and (await response.json())["code"] == "challenge_locked"


async def test_a_signature_challenge_is_single_use_under_concurrency(client, roll, voter_keys):
    challenge = await request_nonce(client, "alice")
    good = sign(voter_keys["alice"], "alice", challenge["nonce"])
    responses = await asyncio.gather(*(verify_signature(client, challenge["challenge_id"], good) for _ in range(8)))
    assert sorted(r.status for r in responses) == [200] + [401] * 7
    again = await verify_signature(client, challenge["challenge_id"], good)
    assert (await again.json())["code"] == "challenge_expired"
