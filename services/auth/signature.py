"""Login with the voter's registered Ed25519 key: the voter signs
`ballotline-login:{election_id}:{voter_id}:{nonce}` (UTF-8) and sends the signature,
base64url-encoded.

Decoy challenges carry a public key whose private half was thrown away at start-up, so
their verification costs the same and always fails.
"""
from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature as BadSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .challenges import new_challenge_id
from .errors import InvalidSignature
from .login import Issued, LoginFlow


def login_message(election_id: str, voter_id: str, nonce: str) -> bytes:
    return f"ballotline-login:{election_id}:{voter_id}:{nonce}".encode()


def _decoy_public_key() -> bytes:
    return Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def decode_signature(text: str) -> bytes | None:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 64 else None


@dataclass(frozen=True)
class NonceChallenge:
    challenge_id: str
    nonce: str
    expires_in: int


@dataclass
class SignatureLogin:
    flow: LoginFlow
    decoy_key: bytes = field(default_factory=_decoy_public_key)

    async def request(self, election_id: str, voter_id: str, address: str) -> NonceChallenge:
        admission = await self.flow.admit("signature", election_id, voter_id, address)
        voter = admission.voter
        challenge_id, nonce = new_challenge_id(), secrets.token_urlsafe(32)
        fields: dict[str, str | bytes] = {"eid": election_id, "vid": voter_id, "who": admission.who}
        if voter is None:
            fields |= {"pct": "", "handle": "", "pk": self.decoy_key}
        else:
            assert voter.public_key is not None
            fields |= {"pct": voter.precinct_id, "handle": voter.handle, "pk": voter.public_key}
        await self.flow.store.create(challenge_id, "sig", nonce, fields)
        return NonceChallenge(challenge_id, nonce, self.flow.store.ttl)

    async def verify(self, challenge_id: str, signature: str, address: str) -> Issued:
        await self.flow.limit_verification(address)
        stored = await self.flow.store.load(challenge_id)
        nonce = stored.get(b"expect", b"").decode()
        verified = False
        raw = decode_signature(signature)
        if stored.get(b"kind") == b"sig" and raw is not None:
            message = login_message(stored[b"eid"].decode(), stored[b"vid"].decode(), nonce)
            try:
                Ed25519PublicKey.from_public_bytes(stored[b"pk"]).verify(raw, message)
                verified = True
            except (BadSignature, ValueError):
                verified = False
        # Settled atomically in Redis: locked/missing/used states are decided there.
        outcome = await self.flow.store.settle(challenge_id, "sig", nonce, verified=verified)
        return self.flow.conclude("signature", outcome, InvalidSignature())
