"""Keyed values and encryption with the service secret (ARCHITECTURE.md "Ballot secrecy").

Everything that could link a voter to a ballot is stored either as an HMAC (idempotency
keys, request fingerprints) or sealed with AES-256-GCM (the participation row's ballot
reference and receipt, the stored responses). Subkeys are derived from VOTE_SECRET_KEY
with HKDF-SHA256, one per purpose, so a value made for one purpose is useless for another.
A sealed value is `nonce (12 bytes) || ciphertext+tag`; the associated data binds it to
its row (election and voter, or the idempotency scope), so it cannot be moved to another.
"""
from __future__ import annotations

import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_PURPOSES = ("idempotency-scope", "request-fingerprint", "participation-seal", "response-seal", "log-pseudonym")


def _derive(secret: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"ballotline-vote-v1", info=purpose.encode()).derive(secret)


def _join(*parts: str | bytes) -> bytes:
    # Unambiguous framing: each part is length-prefixed.
    out = bytearray()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)


class Keyring:
    def __init__(self, secret: bytes) -> None:
        keys = {p: _derive(secret, p) for p in _PURPOSES}
        self._scope_key = keys["idempotency-scope"]
        self._fingerprint_key = keys["request-fingerprint"]
        self._participation = AESGCM(keys["participation-seal"])
        self._response = AESGCM(keys["response-seal"])
        self.pseudonym_key = keys["log-pseudonym"]

    def idempotency_scope(self, election_id: str, voter: str, key: str) -> bytes:
        # hmac.digest: the same HMAC-SHA256 as hmac.new(...).digest(), in one C call
        return hmac.digest(self._scope_key, _join(election_id, voter, key), "sha256")

    def request_fingerprint(self, method: str, path: str, body: bytes) -> bytes:
        return hmac.digest(self._fingerprint_key, _join(method, path, body), "sha256")

    def seal_participation(self, election_id: str, voter: str, plaintext: bytes) -> bytes:
        return _seal(self._participation, plaintext, _join(election_id, voter))

    def open_participation(self, election_id: str, voter: str, sealed: bytes) -> bytes:
        return self._participation.decrypt(sealed[:12], sealed[12:], _join(election_id, voter))

    def seal_response(self, scope: bytes, plaintext: bytes) -> bytes:
        return _seal(self._response, plaintext, scope)

    def open_response(self, scope: bytes, sealed: bytes) -> bytes:
        return self._response.decrypt(sealed[:12], sealed[12:], scope)


def _seal(aead: AESGCM, plaintext: bytes, associated: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + aead.encrypt(nonce, plaintext, associated)
