"""Access tokens: JWTs signed with EdDSA (Ed25519) by PyJWT, and the helper that verifies
them — the claim contract in one place (API.md "Access token"):

    header  alg "EdDSA", typ "JWT", kid = RFC 7638 thumbprint of the signing key's JWK
    iss     the issuer (AUTH_ISSUER, default "ballotline-auth")
    aud     "ballotline-vote"
    sub     the voter's pseudonymous handle (voters.handle), never the raw voter id
    eid     election id          pct  precinct id
    amr     ["otp"] or ["sig"]   jti  unique token id
    iat/exp seconds since epoch; exp - iat <= 900

`verify_access_token` accepts only EdDSA (so `alg: none`, HS256 and every other
algorithm are refused before any key is touched), requires every claim, checks the
audience, expiry and lifetime, and picks the key by `kid` from a JWKS.
"""
from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.signing_keys import public_jwk

AUDIENCE = "ballotline-vote"
ALGORITHM = "EdDSA"
MAX_LIFETIME = 900
AMR = {"otp": ["otp"], "signature": ["sig"]}
REQUIRED = ["iss", "aud", "sub", "eid", "pct", "amr", "iat", "exp", "jti"]


class AccessClaims(msgspec.Struct, frozen=True):
    iss: str
    aud: str
    sub: str
    eid: str
    pct: str
    amr: list[str]
    iat: int
    exp: int
    jti: str


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    kid: str
    public_jwk: dict[str, str]

    @classmethod
    def of(cls, private: Ed25519PrivateKey) -> "SigningKey":
        jwk = public_jwk(private.public_key())
        return cls(private, jwk["kid"], jwk)

    @classmethod
    def generate(cls) -> "SigningKey":
        return cls.of(Ed25519PrivateKey.generate())


class TokenIssuer:
    def __init__(self, key: SigningKey, *, issuer: str, ttl: int) -> None:
        if not 1 <= ttl <= MAX_LIFETIME:
            raise ValueError(f"token lifetime must be 1..{MAX_LIFETIME} s")
        self._key = key
        self.issuer = issuer
        self.ttl = ttl

    def issue(self, *, handle: str, election_id: str, precinct_id: str, method: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": handle,
            "eid": election_id,
            "pct": precinct_id,
            "amr": AMR[method],
            "iat": now,
            "exp": now + self.ttl,
            "jti": secrets.token_urlsafe(16),
        }
        return jwt.encode(claims, self._key.private, algorithm=ALGORITHM, headers={"kid": self._key.kid})


def parse_jwks(jwks: Mapping[str, Any] | str | bytes) -> dict[str, jwt.PyJWK]:
    """Keys of a JWKS document by kid; keys that are not Ed25519 are ignored."""
    document = json.loads(jwks) if isinstance(jwks, (str, bytes)) else jwks
    keys = {}
    for jwk in document.get("keys", []):
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and "kid" in jwk:
            keys[jwk["kid"]] = jwt.PyJWK(dict(jwk), algorithm=ALGORITHM)
    return keys


def verify_access_token(
    token: str,
    keys: Mapping[str, jwt.PyJWK] | Mapping[str, Any],
    *,
    audience: str = AUDIENCE,
    issuer: str | None = None,
    leeway: float = 0,
) -> AccessClaims:
    """The token's claims, or `jwt.InvalidTokenError` (the vote service's 401 invalid_token).
    `keys`: from `parse_jwks`, or a JWKS document."""
    if "keys" in keys:
        keys = parse_jwks(keys)
    header = jwt.get_unverified_header(token)
    if header.get("alg") != ALGORITHM:
        raise jwt.InvalidAlgorithmError(f"only {ALGORITHM} tokens are accepted")
    key = keys.get(header.get("kid", ""))
    if key is None:
        raise jwt.InvalidTokenError("unknown kid")
    payload = jwt.decode(
        token,
        key.key,
        algorithms=[ALGORITHM],
        audience=audience,
        issuer=issuer,
        leeway=leeway,
        options={"require": REQUIRED},
    )
    try:
        claims = msgspec.convert(payload, AccessClaims)
    except msgspec.ValidationError as exc:
        raise jwt.InvalidTokenError(f"malformed claims: {exc}") from None
    if not 0 < claims.exp - claims.iat <= MAX_LIFETIME:
        raise jwt.InvalidTokenError("token lifetime exceeds 15 minutes")
    if claims.amr not in AMR.values():
        raise jwt.InvalidTokenError("unknown authentication method")
    return claims
