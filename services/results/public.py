"""Wire shapes of the election endpoints: the list and the public definition.

Each precinct of the public definition lists the contests on its voters' ballots
(`contests`, in definition order), so a client asks the definition which contests a
precinct gets instead of re-deriving the district rule."""
from __future__ import annotations

from datetime import datetime

import msgspec

from services.common.election import Contest, Election, contests_for
from services.tally.snapshot import rfc3339


class ElectionSummary(msgspec.Struct):
    election_id: str
    title: str
    status: str
    opens_at: str
    closes_at: str


class PublicPrecinct(msgspec.Struct):
    precinct_id: str
    name: str
    channel: str
    contests: list[str]  # the contest ids on this precinct's ballots


class PublicElection(ElectionSummary):
    revoting: bool
    auth_methods: list[str]
    contests: list[Contest]
    precincts: list[PublicPrecinct]


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
            precincts=[
                PublicPrecinct(p.precinct_id, p.name, p.channel, [c.contest_id for c in contests_for(d, p.precinct_id)])
                for p in d.precincts
            ],
        )
    )
