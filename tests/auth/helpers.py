"""Small client-side steps the auth tests repeat."""
from __future__ import annotations

import asyncio
import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.auth.tokens import parse_jwks, verify_access_token

from .conftest import ELECTION


async def request_code(client, voter_id: str, election_id: str = ELECTION, **kw) -> str:
    response = await client.post("/v1/auth/otp", json={"election_id": election_id, "voter_id": voter_id}, **kw)
    assert response.status == 202, await response.text()
    return (await response.json())["challenge_id"]


async def sent_code(client, voter_id: str, election_id: str = ELECTION) -> str:
    """The code the outbox sender 'sent' (sends run in the background)."""
    for _ in range(100):
        response = await client.get(f"/v1/dev/outbox/{election_id}/{voter_id}")
        if response.status == 200:
            return (await response.json())["code"]
        await asyncio.sleep(0.02)
    raise AssertionError("no code was sent")


async def verify_code(client, challenge_id: str, code: str, **kw):
    return await client.post("/v1/auth/otp/verify", json={"challenge_id": challenge_id, "code": code}, **kw)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def login_with_code(client, voter_id: str) -> str:
    challenge_id = await request_code(client, voter_id)
    response = await verify_code(client, challenge_id, await sent_code(client, voter_id))
    assert response.status == 200, await response.text()
    return (await response.json())["access_token"]


async def request_nonce(client, voter_id: str, election_id: str = ELECTION) -> dict:
    response = await client.post("/v1/auth/signature", json={"election_id": election_id, "voter_id": voter_id})
    assert response.status == 200, await response.text()
    return await response.json()


def sign(key: Ed25519PrivateKey, voter_id: str, nonce: str, election_id: str = ELECTION) -> str:
    signature = key.sign(f"ballotline-login:{election_id}:{voter_id}:{nonce}".encode())
    return base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


async def verify_signature(client, challenge_id: str, signature: str):
    return await client.post("/v1/auth/signature/verify", json={"challenge_id": challenge_id, "signature": signature})


async def jwks(client) -> dict:
    response = await client.get("/.well-known/jwks.json")
    assert response.status == 200
    return await response.json()


async def claims_of(client, token: str):
    return verify_access_token(token, parse_jwks(await jwks(client)))
