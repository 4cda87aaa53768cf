"""Test stand-ins for the auth service at its true I/O edge: an Ed25519 key that mints
access tokens with PyJWT, and the JWKS document a tiny aiohttp server publishes."""
from __future__ import annotations

import time
import uuid

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.signing_keys import public_jwk

ISSUER = "ballotline-auth"
FETCHES = web.AppKey("fetches", list)
AUDIENCE = "ballotline-vote"


class TokenMinter:
    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.jwk = public_jwk(self.key.public_key())
        self.kid = self.jwk["kid"]

    def jwks(self) -> dict:
        return {"keys": [self.jwk]}

    def claims(self, voter: str, election_id: str, precinct_id: str, lifetime: int = 600, **overrides) -> dict:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": voter,
            "eid": election_id,
            "pct": precinct_id,
            "amr": ["otp"],
            "iat": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
        }
        claims.update(overrides)
        return claims

    def mint(self, voter: str = "v-1", election_id: str = "test-election", precinct_id: str = "p1", **overrides) -> str:
        key = overrides.pop("signing_key", self.key)
        kid = overrides.pop("kid", self.kid)
        claims = self.claims(voter, election_id, precinct_id, **overrides)
        return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})

    def bearer(self, *args, **kwargs) -> dict[str, str]:
        return {"Authorization": "Bearer " + self.mint(*args, **kwargs)}


def jwks_app(minter: TokenMinter) -> web.Application:
    app = web.Application()
    app[FETCHES] = []  # one entry per fetch

    async def jwks(request: web.Request) -> web.Response:
        app[FETCHES].append(1)
        return web.json_response(minter.jwks())

    app.router.add_get("/.well-known/jwks.json", jwks)
    return app
