"""The service secret (AUTH_SECRET_KEY) and the purpose-bound keys derived from it.

One derived key per purpose, so a value keyed for one use (a log pseudonym) can never
be replayed in another (a code digest).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

import redis.asyncio as aioredis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from services.common.logs import pseudonym
from services.common.settings import Secret

log = logging.getLogger(__name__)
DEV_SECRET_KEY = "auth:dev:secret-key"
DEV_SIGNING_KEY = "auth:dev:signing-key"


@dataclass(frozen=True)
class ServiceKeys:
    code: bytes  # one-time code digests
    pseudonym: bytes  # voter pseudonyms in logs and rate-limit keys

    @classmethod
    def derive(cls, secret: str) -> "ServiceKeys":
        def key(label: str) -> bytes:
            return hmac.new(secret.encode(), f"ballotline-auth/{label}".encode(), hashlib.sha256).digest()

        return cls(code=key("otp-code"), pseudonym=key("voter-pseudonym"))

    def who(self, election_id: str, voter_id: str) -> str:
        return pseudonym(self.pseudonym, election_id, voter_id)

    def code_digest(self, challenge_id: str, code: str) -> str:
        """The keyed hash a code is stored as, bound to its challenge."""
        return hmac.new(self.code, f"{challenge_id}\x1f{code}".encode(), hashlib.sha256).hexdigest()


async def resolve_secret(configured: Secret | None, redis: aioredis.Redis) -> str:
    """The configured secret; in development without one, a random secret created once
    per Redis and shared by every worker (a code issued by one worker must verify on
    another)."""
    if configured is not None:
        return configured.reveal()
    await redis.set(DEV_SECRET_KEY, secrets.token_urlsafe(32), nx=True)
    log.warning("AUTH_SECRET_KEY is not set: using a generated development secret kept in Redis")
    return (await redis.get(DEV_SECRET_KEY)).decode()


async def resolve_signing_key(configured: Ed25519PrivateKey | None, redis: aioredis.Redis) -> Ed25519PrivateKey:
    """The configured token signing key; in development without one, an ephemeral key
    shared by the workers through Redis (one kid, so a JWKS fetched from any worker
    verifies tokens of every worker from the first second)."""
    if configured is not None:
        return configured
    fresh = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    await redis.set(DEV_SIGNING_KEY, fresh, nx=True)
    log.warning("no AUTH_SIGNING_KEY_FILE/AUTH_SIGNING_KEY: signing tokens with a development key kept in Redis")
    key = load_pem_private_key(await redis.get(DEV_SIGNING_KEY), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key
