"""Access tokens for every voter, minted here, and the fake auth JWKS server that lets the
vote service verify them."""
from __future__ import annotations

import base64
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.signing_keys import public_jwk

from .net import free_port

AUTH_KEY = Ed25519PrivateKey.generate()
AUTH_JWK = public_jwk(AUTH_KEY.public_key())


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


_JWT_HEADER = _b64(msgspec.json.encode({"alg": "EdDSA", "kid": AUTH_JWK["kid"], "typ": "JWT"}))


def mint(voter: str) -> str:
    """An access token as the auth service issues it (compact JWS, EdDSA), built directly:
    minting tens of thousands with PyJWT would take longer than the measurement."""
    now = int(time.time())
    claims = {"iss": "ballotline-auth", "aud": "ballotline-vote", "sub": voter, "eid": "bench",
              "pct": f"p{hash(voter) % 20:02d}", "amr": ["otp"], "iat": now, "exp": now + 900, "jti": uuid.uuid4().hex}
    signing_input = _JWT_HEADER + b"." + _b64(msgspec.json.encode(claims))
    return (signing_input + b"." + _b64(AUTH_KEY.sign(signing_input))).decode()


@asynccontextmanager
async def jwks_server() -> AsyncIterator[str]:
    """The JWKS URL, served by this process's event loop while the context lasts."""
    jwks = web.Application()

    async def keys(request: web.Request) -> web.Response:
        return web.json_response({"keys": [AUTH_JWK]})

    jwks.router.add_get("/.well-known/jwks.json", keys)
    runner = web.AppRunner(jwks)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/.well-known/jwks.json"
    finally:
        await runner.cleanup()
