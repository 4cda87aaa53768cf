"""Real answers of the auth service, each held to its OpenAPI document."""
from __future__ import annotations

import asyncio
import base64

from .conftest import OPEN

OTP, OTP_VERIFY = "/v1/auth/otp", "/v1/auth/otp/verify"
SIG, SIG_VERIFY = "/v1/auth/signature", "/v1/auth/signature/verify"
OUTBOX = "/v1/dev/outbox/{election_id}/{voter_id}"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def code_challenge(client, contract, voter_id: str) -> tuple[str, str]:
    body = await contract.check(await client.post(OTP, json={"election_id": OPEN, "voter_id": voter_id}))
    for _ in range(100):  # codes are sent in the background; a 404 until then is documented too
        response = await client.get(f"/v1/dev/outbox/{OPEN}/{voter_id}")
        sent = await contract.check(response)
        if response.status == 200:
            return body["challenge_id"], sent["code"]
        await asyncio.sleep(0.02)
    raise AssertionError("no code was sent")


async def test_every_otp_login_response_matches_its_documented_schema(auth):
    client, contract = auth
    challenge, code = await code_challenge(client, contract, "alice")
    assert (await contract.check(await client.post(OTP_VERIFY, json={"challenge_id": challenge, "code": wrong(code)})))[
        "code"] == "invalid_code"
    token = await contract.check(await client.post(OTP_VERIFY, json={"challenge_id": challenge, "code": code}))
    assert token["token_type"] == "Bearer"
    used = await client.post(OTP_VERIFY, json={"challenge_id": challenge, "code": code})
    assert (await contract.check(used))["code"] == "challenge_expired"

    challenge, code = await code_challenge(client, contract, "bob")
    for _ in range(6):  # the challenge dies after 5 wrong codes
        answer = await client.post(OTP_VERIFY, json={"challenge_id": challenge, "code": wrong(code)})
        await contract.check(answer)
    assert answer.status == 429

    unknown = await client.post(OTP, json={"election_id": OPEN, "voter_id": "nobody"})
    assert unknown.status == 202 and await contract.check(unknown)
    assert (await contract.check(await client.get(f"/v1/dev/outbox/{OPEN}/nobody")))["code"] == "not_found"
    assert {(s, t) for _, t, s in contract.seen} >= {
        (202, OTP), (200, OTP_VERIFY), (401, OTP_VERIFY), (429, OTP_VERIFY), (200, OUTBOX), (404, OUTBOX)
    }


async def test_every_signature_login_response_matches_its_documented_schema(auth, voter_key):
    client, contract = auth

    async def nonce() -> dict:
        return await contract.check(await client.post(SIG, json={"election_id": OPEN, "voter_id": "alice"}))

    challenge = await nonce()
    message = f"ballotline-login:{OPEN}:alice:{challenge['nonce']}".encode()
    signature = base64.urlsafe_b64encode(voter_key.sign(message)).rstrip(b"=").decode()
    ok = await client.post(SIG_VERIFY, json={"challenge_id": challenge["challenge_id"], "signature": signature})
    assert ok.status == 200 and (await contract.check(ok))["access_token"]
    bad = await client.post(SIG_VERIFY, json={"challenge_id": (await nonce())["challenge_id"], "signature": signature})
    assert (await contract.check(bad))["code"] == "invalid_signature"


async def test_every_refused_auth_request_matches_its_documented_problem(auth):
    client, contract = auth
    for path in (OTP, OTP_VERIFY, SIG, SIG_VERIFY):
        wrong_type = await client.post(path, json={"election_id": 1, "voter_id": "alice"})
        assert wrong_type.status == 400 and (await contract.check(wrong_type))["code"] == "malformed_body"
        not_json = await client.post(path, data=b"{", headers={"Content-Type": "application/json"})
        assert not_json.status == 400 and await contract.check(not_json)
        too_large = await client.post(path, data=b"x" * (17 * 1024), headers={"Content-Type": "application/json"})
        assert too_large.status == 413 and (await contract.check(too_large))["code"] == "body_too_large"


async def test_every_auth_key_and_operator_response_matches_its_documented_schema(auth):
    client, contract = auth
    assert (await contract.check(await client.get("/.well-known/jwks.json")))["keys"]
    for path in ("/healthz", "/readyz"):
        response = await client.get(path, headers={"X-Request-Id": "contract-check-1"})
        assert response.status == 200 and response.headers["X-Request-Id"] == "contract-check-1"
        await contract.check(response)
