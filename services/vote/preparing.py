"""Preparing a valid ballot for the batch: random ids, minute time, receipt, sealed
values and the 201 body, all computed before the transaction. Pure apart from randomness.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone

from services.common.election import Election
from services.common.outbox import padded_size

from .model import PendingBallot
from .receipts import ReceiptSigner, canonical_selections, fingerprint
from .schemas import CastResponse, SealedBallotRef, encoder
from .sealing import Keyring
from .tokens import Claims

KEEP_KEYS_AFTER_CLOSE = timedelta(hours=24)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_last_minute: tuple[datetime, str] | None = None


def _minute_rfc3339(minute: datetime) -> str:
    """rfc3339() of a minute-truncated UTC time; every ballot of a minute shares it."""
    global _last_minute
    cached = _last_minute
    if cached is None or cached[0] != minute:
        cached = _last_minute = (minute, rfc3339(minute))
    return cached[1]


def random_uuid4() -> str:
    """str(uuid.uuid4()) without building a UUID object: 122 random bits from os.urandom
    (as uuid4 does), version 4, RFC 4122 variant."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_sizes: dict[str, tuple[object, int]] = {}


def _message_size(election: Election) -> int:
    """padded_size of the election's definition, computed once per definition object."""
    cached = _sizes.get(election.election_id)
    if cached is None or cached[0] is not election.definition:
        cached = _sizes[election.election_id] = (election.definition, padded_size(election.definition))
    return cached[1]


class BallotPreparer:
    def __init__(self, keyring: Keyring, signer: ReceiptSigner) -> None:
        self._keys = keyring
        self._signer = signer

    def prepare(
        self,
        election: Election,
        claims: Claims,
        scope: bytes,
        request_fingerprint: bytes,
        selections: Mapping[str, Sequence[str]],
        now: datetime,
        client: str = "",
    ) -> PendingBallot:
        recorded_at = now.astimezone(timezone.utc).replace(second=0, microsecond=0)
        ballot_id = random_uuid4()
        receipt_id = secrets.token_urlsafe(18)
        canonical = canonical_selections(selections)
        receipt = self._signer.sign(
            receipt_id, election.election_id, _minute_rfc3339(recorded_at), fingerprint(ballot_id, receipt_id, canonical)
        )
        body = encoder.encode(CastResponse(receipt))
        cast_at = now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        ref = encoder.encode(SealedBallotRef(ballot_id, receipt, list(claims.amr), cast_at, client))
        return PendingBallot(
            election_id=election.election_id,
            voter=claims.voter,
            precinct_id=claims.precinct_id,
            revoting=election.definition.revoting,
            scope=scope,
            request_fingerprint=request_fingerprint,
            keep_until=election.closes_at + KEEP_KEYS_AFTER_CLOSE,
            ballot_id=ballot_id,
            receipt_id=receipt_id,
            selections=canonical,
            message_size=_message_size(election),
            recorded_at=recorded_at,
            sealed_ref=self._keys.seal_participation(election.election_id, claims.voter, ref),
            response_body=body,
            sealed_response=self._keys.seal_response(scope, body),
        )
