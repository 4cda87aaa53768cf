"""A ballot on its way to Postgres, and what can become of it. Pure.

Everything a batch writes is prepared before the ballot is queued (ids, receipt, sealed
values, the response body), so a flush is only statements and one commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import msgspec


class PendingBallot(msgspec.Struct, frozen=True, kw_only=True):
    """Immutable like a frozen dataclass; a msgspec Struct because one is built per
    ballot and a 14-field frozen dataclass __init__ (object.__setattr__ per field) cost
    several µs. Never encoded: it only carries values to the batch."""

    election_id: str
    voter: str
    precinct_id: str
    revoting: bool
    scope: bytes  # HMAC of (election, voter, Idempotency-Key)
    request_fingerprint: bytes  # HMAC of (method, path, body)
    keep_until: datetime  # idempotency row expiry
    ballot_id: str
    receipt_id: str
    selections: str  # canonical JSON
    message_size: int  # every outbox message of the election is padded to this size
    recorded_at: datetime  # truncated to the minute (participation and receipt only)
    sealed_ref: bytes  # participation's sealed (ballot_id, receipt, how and when cast)
    response_body: bytes  # the 201 body, returned now and replayed later
    sealed_response: bytes


@dataclass(frozen=True)
class Written:
    """Committed: answer 201 with the prepared body."""


@dataclass(frozen=True)
class Replay:
    """The same key and body were answered before: replay the stored answer."""

    status: int
    body: bytes


@dataclass(frozen=True)
class KeyReused:
    """The same key came with a different request."""


@dataclass(frozen=True)
class AlreadyVoted:
    """The voter has a ballot and the election does not allow re-voting."""


@dataclass(frozen=True)
class Closed:
    """The election stopped accepting ballots before this one could commit."""


@dataclass(frozen=True)
class Unreadable:
    """The voter's participation row cannot be opened with this server's key (a
    VOTE_SECRET_KEY changed under a running election): this ballot is refused, the
    others of its batch are not."""


Outcome = Written | Replay | KeyReused | AlreadyVoted | Closed | Unreadable
