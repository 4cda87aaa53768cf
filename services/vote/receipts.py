"""Signed receipts. Pure: no I/O (the key is handed in).

    canonical selections  JSON, contests sorted by id, each contest's options sorted,
                          no whitespace (also what `ballots.selections` stores)
    fingerprint           "sha256:" + base64url(SHA-256(ballot_id "\\n" receipt_id "\\n"
                          canonical selections)), unpadded. The ballot id is random and
                          not in the receipt, so the fingerprint cannot be matched against
                          guessed choices; whoever holds the ballot row (receipt_id →
                          ballot_id, selections) can recompute and check it.
    signature             base64url (unpadded) Ed25519 over the UTF-8 JSON object of the
                          receipt's other five fields (election_id, fingerprint, key_id,
                          receipt_id, recorded_at), keys sorted, no whitespace
    key_id                the RFC 7638 thumbprint of the public JWK
"""
from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Mapping, Sequence

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
)

from services.common.signing_keys import public_jwk

from .schemas import Receipt

log = logging.getLogger(__name__)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def canonical_selections(selections: Mapping[str, Sequence[str]]) -> str:
    ordered = {contest: sorted(options) for contest, options in selections.items()}
    return msgspec.json.encode(ordered, order="sorted").decode()


def fingerprint(ballot_id: str, receipt_id: str, canonical: str) -> str:
    digest = hashlib.sha256(f"{ballot_id}\n{receipt_id}\n{canonical}".encode()).digest()
    return "sha256:" + b64url(digest)


def signed_payload(receipt: Receipt) -> bytes:
    fields = {
        "election_id": receipt.election_id,
        "fingerprint": receipt.fingerprint,
        "key_id": receipt.key_id,
        "receipt_id": receipt.receipt_id,
        "recorded_at": receipt.recorded_at,
    }
    return msgspec.json.encode(fields, order="sorted")


class ReceiptSigner:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.jwk = public_jwk(private_key.public_key())
        self.key_id = self.jwk["kid"]

    @classmethod
    def configured(cls, key: Ed25519PrivateKey | None) -> "ReceiptSigner":
        if key is None:
            log.warning("no VOTE_SIGNING_KEY_FILE: receipts are signed with an ephemeral key (development only)")
            return cls(Ed25519PrivateKey.generate())
        return cls(key)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [self.jwk]}

    def sign(self, receipt_id: str, election_id: str, recorded_at: str, fp: str) -> Receipt:
        receipt = Receipt(
            receipt_id=receipt_id, election_id=election_id, recorded_at=recorded_at, fingerprint=fp, key_id=self.key_id
        )
        receipt.signature = b64url(self._key.sign(signed_payload(receipt)))
        return receipt
