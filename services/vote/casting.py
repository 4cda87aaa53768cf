"""The use cases: cast a ballot, show a voter their participation.

Checks run cheapest first and write nothing: token, key, election, body, phase, rules.
Only then is the ballot prepared (ids, receipt, sealed values) and queued for a group
commit; the answer is the batch's outcome for it, after COMMIT.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import msgspec

from services.common.ballot import check_ballot
from services.common.catalog import ElectionCatalog
from services.common.problems import BadRequest

from . import errors, metrics
from .batcher import Batcher
from .idempotency import InFlight, check_key
from .model import AlreadyVoted, Closed, KeyReused, Outcome, Replay, Unreadable, Written
from .preparing import BallotPreparer, rfc3339
from .schemas import (
    MineResponse,
    ballot_request_decoder,
    cast_response_decoder,
    sealed_ref_decoder,
)
from .sealing import Keyring
from .store import BallotStore
from .tokens import TokenVerifier

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class CastAnswer:
    status: int
    body: bytes
    replayed: bool
    location: str | None


@dataclass
class VoteService:
    catalog: ElectionCatalog
    verifier: TokenVerifier
    keyring: Keyring
    preparer: BallotPreparer
    store: BallotStore
    batcher: Batcher
    inflight: InFlight
    clock: Callable[[], datetime] = utcnow

    async def cast(
        self, election_id: str, authorization: str | None, key: str | None, path: str, body: bytes, client: str = ""
    ) -> CastAnswer:
        """`client`: the voter's address (trusted proxies applied), kept sealed for annulment by rule."""
        claims = await self.verifier.verify(authorization)
        key = check_key(key)
        if claims.election_id != election_id:
            raise errors.WrongElection("the token was issued for another election")
        election = self.catalog.get(election_id)
        if election is None:
            raise errors.ElectionNotFound(f"no election {election_id!r}")
        if election.precinct(claims.precinct_id) is None:
            raise errors.InvalidToken("the token names no precinct of this election")
        if not claims.logged_in_by_any(election.definition.auth_methods):
            # Checked on every ballot against the catalog, so a policy change refuses
            # tokens issued before it too (API.md "Changing a running election").
            raise errors.AuthMethodNotAllowed(
                "this election no longer accepts the login method of your token; log in again with "
                + " or ".join(election.definition.auth_methods)
            )
        try:
            request = ballot_request_decoder.decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise BadRequest(f"the body is not a valid ballot: {exc}", code="malformed_body") from None
        scope = self.keyring.idempotency_scope(election_id, claims.voter, key)
        fingerprint = self.keyring.request_fingerprint("POST", path, body)
        self.inflight.enter(scope)
        try:
            if election.status(self.clock()) != "open":
                # A retry of a ballot acknowledged before closing still gets its receipt.
                outcome = await self.store.find_answer(election_id, scope, fingerprint)
                if outcome is None:
                    raise errors.ElectionNotOpen(f"the election is {election.status(self.clock())}, not open")
                return self._answer(election_id, outcome, None)
            rule = check_ballot(election.definition, request.selections, claims.precinct_id)
            if rule is not None:
                raise errors.InvalidBallot(rule)
            pending = self.preparer.prepare(election, claims, scope, fingerprint, request.selections, self.clock(), client)
            future = self.batcher.submit(pending)
            try:
                outcome = await future
            except (asyncio.CancelledError, errors.Overloaded):
                raise
            except Exception:  # noqa: BLE001 - rolled back; the batcher logged it
                raise errors.StorageUnavailable("the ballot could not be stored; retry with the same key", retry_after=1) from None
            return self._answer(election_id, outcome, pending.response_body, pending.receipt_id)
        finally:
            self.inflight.leave(scope)

    def _answer(
        self, election_id: str, outcome: Outcome, body: bytes | None, receipt_id: str | None = None
    ) -> CastAnswer:
        if isinstance(outcome, Written) and body is not None:
            metrics.accepted()
            # the receipt id of the body we prepared: no need to decode it again
            location = f"/v1/elections/{election_id}/receipts/{receipt_id}" if receipt_id else _location(election_id, body)
            return CastAnswer(201, body, False, location)
        if isinstance(outcome, Replay):
            metrics.replayed()
            location = _location(election_id, outcome.body) if outcome.status == 201 else None
            return CastAnswer(outcome.status, outcome.body, True, location)
        if isinstance(outcome, KeyReused):
            raise errors.IdempotencyKeyReused("this Idempotency-Key was used for a different request")
        if isinstance(outcome, AlreadyVoted):
            raise errors.AlreadyVoted("a ballot was already cast in your name; this election does not allow re-voting")
        if isinstance(outcome, Closed):
            raise errors.ElectionNotOpen("the election closed before your ballot could be recorded; it was not counted")
        if isinstance(outcome, Unreadable):
            log.error("a participation row cannot be opened with VOTE_SECRET_KEY", extra={"election_id": election_id})
            raise errors.ParticipationUnreadable(
                "your earlier ballot's record cannot be read by this server, so a new ballot cannot replace it;"
                " nothing was recorded — please tell the election's operator"
            )
        raise AssertionError(f"unexpected outcome {outcome!r}")

    async def mine(self, election_id: str, authorization: str | None) -> MineResponse:
        claims = await self.verifier.verify(authorization)
        if claims.election_id != election_id:
            raise errors.WrongElection("the token was issued for another election")
        row = await self.store.participation(election_id, claims.voter)
        if row is None:
            return MineResponse(voted=False, ballots_cast=0, last_recorded_at=None, receipt=None)
        ref = sealed_ref_decoder.decode(
            self.keyring.open_participation(election_id, claims.voter, bytes(row["sealed_ballot"]))
        )
        return MineResponse(True, row["ballots_cast"], rfc3339(row["last_recorded_at"]), ref.receipt)


def _location(election_id: str, body: bytes) -> str:
    receipt_id = cast_response_decoder.decode(body).receipt.receipt_id
    return f"/v1/elections/{election_id}/receipts/{receipt_id}"
