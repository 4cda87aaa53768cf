"""Wire types (msgspec). Client input forbids unknown fields; decoders and encoders are
built once here."""
from __future__ import annotations

import msgspec


class BallotRequest(msgspec.Struct, forbid_unknown_fields=True):
    selections: dict[str, list[str]]


class Receipt(msgspec.Struct, kw_only=True):
    receipt_id: str
    election_id: str
    recorded_at: str  # RFC 3339 UTC, minute precision
    fingerprint: str
    signature: str = ""  # base64url Ed25519 over the other fields (receipts.py)
    key_id: str


class CastResponse(msgspec.Struct):
    receipt: Receipt


class MineResponse(msgspec.Struct):
    voted: bool
    ballots_cast: int
    last_recorded_at: str | None
    receipt: Receipt | None


class SealedBallotRef(msgspec.Struct, array_like=True):
    """What a participation row keeps, sealed with the vote key: the live ballot and its
    receipt, and what an audited annulment by rule needs (login method, exact time,
    client address)."""

    ballot_id: str
    receipt: Receipt
    amr: list[str] = msgspec.field(default_factory=list)
    cast_at: str = ""  # RFC 3339 UTC, to the second
    client_address: str = ""  # as derived with VOTE_TRUSTED_PROXIES


ballot_request_decoder = msgspec.json.Decoder(BallotRequest)
cast_response_decoder = msgspec.json.Decoder(CastResponse)
sealed_ref_decoder = msgspec.json.Decoder(SealedBallotRef)
encoder = msgspec.json.Encoder()
