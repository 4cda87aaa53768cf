"""Wire shapes of the election endpoints: the list and the public definition."""
from __future__ import annotations

from datetime import datetime

import msgspec

from services.common.election import Contest, Election, Precinct
from services.tally.snapshot import rfc3339


class ElectionSummary(msgspec.Struct):
    election_id: str
    title: str
    status: str
    opens_at: str
    closes_at: str


class PublicElection(ElectionSummary):
    revoting: bool
    auth_methods: list[str]
    contests: list[Contest]
    precincts: list[Precinct]


_encoder = msgspec.json.Encoder()


def _common(e: Election, now: datetime) -> dict:
    return dict(
        election_id=e.election_id,
        title=e.definition.title,
        status=e.status(now),
        opens_at=rfc3339(e.opens_at),
        closes_at=rfc3339(e.closes_at),
    )


def election_list(elections: list[Election], now: datetime) -> bytes:
    return _encoder.encode([ElectionSummary(**_common(e, now)) for e in elections])


def public_election(e: Election, now: datetime) -> bytes:
    d = e.definition
    return _encoder.encode(
        PublicElection(
            **_common(e, now),
            revoting=d.revoting,
            auth_methods=list(d.auth_methods),
            contests=d.contests,
            precincts=d.precincts,
        )
    )
