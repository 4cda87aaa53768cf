"""POST /v1/auth/otp and /v1/auth/otp/verify (API.md "Auth service")."""
from __future__ import annotations

import asyncio

from .helpers import claims_of, request_code, sent_code, verify_code, wrong


async def test_requesting_a_code_answers_202_with_a_challenge_and_its_lifetime(client, roll):
    response = await client.post("/v1/auth/otp", json={"election_id": "test-election", "voter_id": "alice"})
    assert response.status == 202
    body = await response.json()
    assert set(body) == {"challenge_id", "expires_in"}
    assert body["expires_in"] == 300 and len(body["challenge_id"]) >= 22


async def test_the_code_sent_is_six_digits_and_logs_the_voter_in(client, roll):
    challenge_id = await request_code(client, "alice")
    code = await sent_code(client, "alice")
    assert len(code) == 6 and code.isdigit()
    response = await verify_code(client, challenge_id, code)
    assert response.status == 200
    body = await response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600
    claims = await claims_of(client, body["access_token"])
    assert claims.amr == ["otp"] and claims.eid == "test-election" and claims.pct == "p1"


async def test_a_wrong_code_is_401_invalid_code_and_the_challenge_survives(client, roll):
    challenge_id = await request_code(client, "alice")
    code = await sent_code(client, "alice")
    response = await verify_code(client, challenge_id, wrong(code))
    assert response.status == 401
    assert response.content_type == "application/problem+json"
    assert (await response.json())["code"] == "invalid_code"
    assert (await verify_code(client, challenge_id, code)).status == 200


async def test_the_fifth_wrong_code_burns_the_challenge_even_for_the_right_code(client, roll):
    challenge_id = await request_code(client, "alice")
    code = await sent_code(client, "alice")
    statuses = [(await verify_code(client, challenge_id, wrong(code))).status for _ in range(4)]
    assert statuses == [401] * 4
    fifth = await verify_code(client, challenge_id, wrong(code))
    assert fifth.status == 429 and (await fifth.json())["code"] == "challenge_locked"
    assert int(fifth.headers["Retry-After"]) >= 1
    after = await verify_code(client, challenge_id, code)
    assert after.status == 429 and (await after.json())["code"] == "challenge_locked"


async def test_concurrent_wrong_codes_cannot_exceed_five_attempts(client, roll):
    challenge_id = await request_code(client, "alice")
    code = await sent_code(client, "alice")
    responses = await asyncio.gather(*(verify_code(client, challenge_id, wrong(code)) for _ in range(12)))
    assert sorted(r.status for r in responses) == [401] * 4 + [429] * 8
    assert (await verify_code(client, challenge_id, code)).status == 429


async def test_a_code_works_only_once(client, roll):
    challenge_id = await request_code(client, "alice")
    code = await sent_code(client, "alice")
    assert (await verify_code(client, challenge_id, code)).status == 200
    again = await verify_code(client, challenge_id, code)
    assert again.status == 401 and (await again.json())["code"] == "challenge_expired"


async def test_concurrent_verifications_of_the_right_code_yield_exactly_one_token(client, roll):
    challenge_id = await request_code(client, "alice")
    code = await sent_code(client, "alice")
    responses = await asyncio.gather(*(verify_code(client, challenge_id, code) for _ in range(10)))
    assert sorted(r.status for r in responses) == [200] + [401] * 9


async def test_a_code_expires_with_its_challenge(make_client, roll):
    client = await make_client(AUTH_OTP_TTL="1")
    challenge_id = await request_code(client, "alice")
    code = await sent_code(client, "alice")
    await asyncio.sleep(2.1)
    response = await verify_code(client, challenge_id, code)
    assert response.status == 401 and (await response.json())["code"] == "challenge_expired"
    assert (await client.get("/v1/dev/outbox/test-election/alice")).status == 404


async def test_a_code_is_bound_to_its_challenge(client, roll):
    first = await request_code(client, "alice")
    code_for_bob = (await request_code(client, "bob"), await sent_code(client, "bob"))[1]
    response = await verify_code(client, first, code_for_bob)
    assert response.status == 401


async def test_an_unknown_challenge_is_401_challenge_expired(client, roll):
    response = await verify_code(client, "no-such-challenge", "123456")
    assert response.status == 401 and (await response.json())["code"] == "challenge_expired"


async def test_a_signature_challenge_cannot_be_answered_with_a_code(client, roll):
    response = await client.post("/v1/auth/signature", json={"election_id": "test-election", "voter_id": "alice"})
    challenge_id = (await response.json())["challenge_id"]
    answer = await verify_code(client, challenge_id, "123456")
    assert answer.status == 401 and (await answer.json())["code"] == "challenge_expired"


async def test_malformed_bodies_and_unknown_fields_are_400_malformed_body(client, roll):
    for body in (b"{", b'{"election_id": "test-election"}', b'{"election_id": 1, "voter_id": "alice"}',
                 b'{"election_id": "test-election", "voter_id": "alice", "phone": "+1"}'):
        response = await client.post("/v1/auth/otp", data=body)
        assert response.status == 400 and (await response.json())["code"] == "malformed_body"
    response = await client.post("/v1/auth/otp/verify", json={"challenge_id": "x", "code": "1", "extra": 1})
    assert response.status == 400


async def test_the_outbox_is_404_when_nothing_was_sent(client, roll):
    response = await client.get("/v1/dev/outbox/test-election/alice")
    assert response.status == 404 and (await response.json())["code"] == "not_found"


async def test_the_outbox_holds_the_code_as_soon_as_the_request_is_answered(client, roll):
    await request_code(client, "alice")
    response = await client.get("/v1/dev/outbox/test-election/alice")
    assert response.status == 200 and len((await response.json())["code"]) == 6
