"""Access-token verification, local and offline (API.md "Auth service": access token).

A strict compact-JWS check for one algorithm: exactly three base64url segments, header
`alg` exactly "EdDSA" (never `none`, never HS*/RS*), no `crit`, a known `kid`, an Ed25519
signature over `header.payload`; then `aud`, `iss`, `exp` (at most 15 min after `iat`),
`iat` no later than now + MAX_CLOCK_SKEW, `nbf` when present, and the claims the service
needs. Written out rather than calling `jwt.decode` because PyJWT's per-character base64 check cost ~0.3 ms a token, more than the signature itself
(measured with cProfile under loadtests/bench_vote.py); the checks are the same.
"""
from __future__ import annotations

import base64
import binascii
import re
import time
from dataclasses import dataclass

import msgspec
from cryptography.exceptions import InvalidSignature

from .errors import InvalidToken, KeysUnavailable
from .jwks import KeySet

AUDIENCE = "ballotline-vote"
MAX_LIFETIME = 900  # API.md: exp is at most 15 minutes after iat
# How far ahead of this host's clock auth's clock may run: a token whose `iat` is later
# than now + MAX_CLOCK_SKEW was not issued by an honest auth with a sane clock.
MAX_CLOCK_SKEW = 30
_SEGMENT = re.compile(rb"^[A-Za-z0-9_-]+$")
_decode_json = msgspec.json.Decoder(dict).decode


# `amr` values (API.md "Access token") and the election's `auth_methods` they stand for.
AMR_METHODS = {"otp": "otp", "sig": "signature"}


@dataclass(frozen=True)
class Claims:
    voter: str  # the token's `sub`
    election_id: str
    precinct_id: str
    amr: tuple[str, ...] = ()  # how the voter logged in (kept sealed, for annulment by rule)

    def logged_in_by_any(self, methods: list[str]) -> bool:
        """Whether `amr` names one of these login methods (an empty `amr` names none)."""
        return any(AMR_METHODS.get(m) in methods for m in self.amr)


def _segment(data: bytes) -> bytes:
    if not _SEGMENT.match(data) or len(data) % 4 == 1:
        raise InvalidToken("the token is malformed")
    try:
        return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken("the token is malformed") from None


def _json(data: bytes) -> dict:
    try:
        return _decode_json(_segment(data))
    except msgspec.DecodeError:
        raise InvalidToken("the token is malformed") from None


_HEADER_CACHE_MAX = 64


class TokenVerifier:
    def __init__(self, keys: KeySet, *, issuer: str, leeway: float = 5.0) -> None:
        self._keys = keys
        self._issuer = issuer
        self._leeway = leeway
        # Decoded JOSE headers by their encoded segment: every token from one auth key
        # has the same header. Only well-formed headers are kept (a malformed one raises
        # before), and only a few, so forged headers cannot grow it.
        self._headers: dict[bytes, dict] = {}

    def _header(self, segment: bytes) -> dict:
        header = self._headers.get(segment)
        if header is None:
            header = _json(segment)
            if len(self._headers) < _HEADER_CACHE_MAX:
                self._headers[segment] = header
        return header

    async def verify(self, authorization: str | None) -> Claims:
        if not authorization or not authorization.startswith("Bearer "):
            raise InvalidToken("an Authorization: Bearer token is required")
        try:
            token = authorization[7:].strip().encode("ascii")
        except UnicodeEncodeError:
            raise InvalidToken("the token is malformed") from None
        parts = token.split(b".")
        if len(parts) != 3:
            raise InvalidToken("the token is malformed")
        header = self._header(parts[0])
        if header.get("alg") != "EdDSA" or "crit" in header:
            raise InvalidToken("the token must be signed with EdDSA")
        if not self._keys.loaded:
            raise KeysUnavailable("token keys are not loaded yet", retry_after=1)
        key = await self._keys.key_for(str(header.get("kid", "")))
        if key is None:
            raise InvalidToken("the token's key is unknown")
        try:
            key.verify(_segment(parts[2]), parts[0] + b"." + parts[1])
        except InvalidSignature:
            raise InvalidToken("the token's signature is not valid") from None
        return self._claims(_json(parts[1]))

    def _claims(self, claims: dict) -> Claims:
        now = time.time()
        aud = claims.get("aud")
        if not (aud == AUDIENCE or (isinstance(aud, list) and AUDIENCE in aud)):
            raise InvalidToken("the token is not meant for the vote service")
        if claims.get("iss") != self._issuer:
            raise InvalidToken("the token's issuer is not trusted")
        exp, iat, nbf = claims.get("exp"), claims.get("iat"), claims.get("nbf", 0)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (exp, iat, nbf)):
            raise InvalidToken("the token's times are malformed")
        if exp <= now - self._leeway:
            raise InvalidToken("the token has expired")
        if nbf > now + self._leeway:
            raise InvalidToken("the token is not valid yet")
        if iat > now + MAX_CLOCK_SKEW:
            raise InvalidToken("the token was issued in the future")
        if exp - iat > MAX_LIFETIME:
            raise InvalidToken("the token lives longer than 15 minutes")
        values = [claims.get(c) for c in ("sub", "eid", "pct")]
        if not all(isinstance(v, str) and v for v in values):
            raise InvalidToken("the token's sub, eid and pct must be non-empty strings")
        amr = claims.get("amr")
        methods = tuple(m for m in amr if isinstance(m, str)) if isinstance(amr, list) else ()
        return Claims(voter=values[0], election_id=values[1], precinct_id=values[2], amr=methods)
