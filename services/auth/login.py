"""What both login methods share: admitting a challenge request (rate limits, roll
lookup, eligibility) and turning a settled challenge into a token.

A login by a method the election does not accept is refused openly (403): the methods are
public. Any other refused request is not an error: it gets a decoy challenge that looks and behaves
like a real one, so nobody learns whether a voter exists, is on paper, or whether the
election is open. Rate limits are counted before the roll is read, for real and
unknown voters alike.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from services.common.catalog import ElectionCatalog
from services.common.client_address import limit_key

from . import metrics
from .challenges import ChallengeStore, Outcome
from .eligibility import Method, method_refused, refusal
from .errors import AuthMethodNotAllowed, ChallengeExpired, ChallengeLocked
from .keys import ServiceKeys
from .ratelimit import RateLimiter
from .settings import RateLimits
from .tokens import TokenIssuer
from .voters import VoterRecord, VoterRoll

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Admission:
    who: str
    voter: VoterRecord | None  # None: answer with a decoy


@dataclass(frozen=True)
class Issued:
    access_token: str
    expires_in: int


@dataclass
class LoginFlow:
    catalog: ElectionCatalog
    roll: VoterRoll
    store: ChallengeStore
    limiter: RateLimiter
    rates: RateLimits
    issuer: TokenIssuer
    keys: ServiceKeys

    async def admit(self, method: Method, election_id: str, voter_id: str, address: str) -> Admission:
        who = self.keys.who(election_id, voter_id)
        await self.limiter.hit(self.rates.challenge_per_address, limit_key(address))
        await self.limiter.hit(self.rates.challenge_per_voter, f"{method}:{who}")
        metrics.CHALLENGES_REQUESTED.labels(method).inc()
        if method_refused(self.catalog.get(election_id), method):
            raise AuthMethodNotAllowed(method)
        voter = await self.roll.find(election_id, voter_id)  # always, so every answer costs the same
        reason = refusal(self.catalog.get(election_id), voter, method, datetime.now(timezone.utc))
        if reason is not None:
            log.info("%s challenge for %s is a decoy: %s", method, who, reason)
            return Admission(who, None)
        log.info("%s challenge for %s", method, who)
        return Admission(who, voter)

    async def limit_verification(self, address: str) -> None:
        await self.limiter.hit(self.rates.verify_per_address, limit_key(address))

    def conclude(self, method: Method, outcome: Outcome, wrong: Exception) -> Issued:
        """The token for a right answer; otherwise the error to answer with."""
        metrics.VERIFICATIONS.labels(method, outcome.status).inc()
        if outcome.status == "locked":
            raise ChallengeLocked(outcome.retry_after)
        if outcome.status == "missing":
            raise ChallengeExpired()
        if outcome.status != "ok" or outcome.claims is None:
            raise wrong
        claims = outcome.claims
        # A challenge requested before the operator removed its method gets no token.
        if method_refused(self.catalog.get(claims.election_id), method):
            raise AuthMethodNotAllowed(method)
        token = self.issuer.issue(
            handle=claims.handle, election_id=claims.election_id, precinct_id=claims.precinct_id, method=method
        )
        metrics.TOKENS_ISSUED.labels(method).inc()
        log.info("token issued to %s by %s", claims.who, method)
        return Issued(token, self.issuer.ttl)
