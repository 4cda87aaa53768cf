"""The results snapshot (API.md "Results service"): built from counts, encoded
canonically, sealed with a digest. Pure: no I/O.

The canonical form is JSON with sorted keys and no spaces; the served bytes are the
canonical form of the snapshot including its digest, so the same version always has the
same bytes (strong ETags), even after it is re-read from Postgres.

Precinct snapshots have the same shape plus `precinct_id`. `precincts_reporting` counts
the precincts with at least one counted ballot (paper precincts report once their
protocols are entered, a later feature).

Ballot shapes (API.md "Real ballot shapes"): every snapshot lists every contest, each with
its own `eligible` (the roll of its precincts within the snapshot's scope: 0 in a precinct
snapshot of a precinct outside a district). A contest with `seats` carries, in the
election total only, `seats`, `tie_broken` and per option `passes_threshold` and `seats`;
seats are allocated on the whole count, never per precinct.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import msgspec

from services.common.election import Contest, ElectionDefinition, contests_for

from .counts import Tally
from .rounding import as_percent, ratio, shares
from .seats import allocate

Snapshot = dict[str, Any]
_canonical = msgspec.json.Encoder(order="sorted")
_UNSEALED = ("version", "as_of", "digest", "previous_digest")


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def build(
    definition: ElectionDefinition,
    *,
    tally: Tally,
    eligible: Mapping[str, int],
    status: str,
    version: int,
    as_of: datetime,
    precinct_id: str | None = None,
    previous_digest: str | None = None,
) -> Snapshot:
    """The snapshot of the whole election, or of one precinct when `precinct_id` is set.
    `previous_digest` (the digest published before it in the same scope) is sealed into
    its digest: the history is a hash chain."""
    if precinct_id is not None:
        tally = tally.precinct(precinct_id)
        precincts = [precinct_id]
    else:
        precincts = [p.precinct_id for p in definition.precincts]
    voted = sum(tally.voted.get(p, 0) for p in precincts)
    entitled = sum(eligible.get(p, 0) for p in precincts)
    on_ballot = {c.contest_id for c in contests_for(definition, precinct_id)} if precinct_id is not None else None

    def contest_eligible(contest: Contest) -> int:
        if contest.precincts is None:
            return entitled
        if on_ballot is not None:  # one precinct: the index, not the district's precinct list
            return entitled if contest.contest_id in on_ballot else 0
        return sum(eligible.get(p, 0) for p in dict.fromkeys(contest.precincts))
    snapshot: Snapshot = {"election_id": definition.election_id}
    if precinct_id is not None:
        snapshot["precinct_id"] = precinct_id
    snapshot.update(
        version=version,
        as_of=rfc3339(as_of),
        previous_digest=previous_digest,
        status=status,
        turnout={"eligible": entitled, "voted": voted, "percent": as_percent(ratio(voted, entitled))},
        precincts_reporting=sum(1 for p in precincts if tally.voted.get(p, 0) > 0),
        precincts_total=len(precincts),
        contests=[
            _contest(contest, sums, contest_eligible(contest), with_seats=precinct_id is None)
            for sums in [_Sums(tally, precincts)]
            for contest in definition.contests
        ],
    )
    return seal(snapshot)


class _Sums:
    """The scope's counts per contest and option, in one pass over the tally (not one per
    contest, option and precinct: an election may have hundreds of districts)."""

    def __init__(self, tally: Tally, precincts: list[str]) -> None:
        scope = set(precincts)
        self.votes: dict[tuple[str, str], int] = {}
        self.ballots: dict[str, int] = {}
        self.abstentions: dict[str, int] = {}
        for (p, cid, oid), n in tally.votes.items():
            if p in scope:
                self.votes[cid, oid] = self.votes.get((cid, oid), 0) + n
        for target, counts in ((self.ballots, tally.ballots), (self.abstentions, tally.abstentions)):
            for (p, cid), n in counts.items():
                if p in scope:
                    target[cid] = target.get(cid, 0) + n


def _contest(contest: Contest, sums: _Sums, eligible: int, *, with_seats: bool) -> dict:
    # Counts are summed over every precinct of the scope, not only the contest's own: a
    # ballot counted outside its district shows, and the invariants refuse it.
    cid = contest.contest_id
    votes = [sums.votes.get((cid, o.option_id), 0) for o in contest.options]
    ballots = sums.ballots.get(cid, 0)
    options = [
        {"option_id": o.option_id, "votes": v, "percent": as_percent(pc)}
        for o, v, pc in zip(contest.options, votes, shares(votes))
    ]
    result = {
        "contest_id": cid,
        "eligible": eligible,
        "ballots": ballots,
        "abstentions": sums.abstentions.get(cid, 0),
        "options": options,
    }
    if contest.seats is not None and with_seats:
        passing = [passes_threshold(contest, o, v, ballots) for o, v in zip(contest.options, votes)]
        won = allocate(contest.method, [v for v, ok in zip(votes, passing) if ok], contest.seats)
        seats = iter(won.seats)
        for entry, ok in zip(options, passing):
            entry.update(passes_threshold=ok, seats=next(seats) if ok else 0)
        result.update(seats=contest.seats, tie_broken=won.tie_broken)
    return result


def passes_threshold(contest: Contest, option, votes: int, ballots: int) -> bool:
    """At least threshold_percent of the contest's ballots (exact, in hundredths of a
    percent); an option without votes or "against all" never passes."""
    return option.kind != "against_all" and votes > 0 and votes * 10_000 >= contest.threshold_hundredths * ballots


def canonical(value: Any) -> bytes:
    return _canonical.encode(value)


def digest_of(snapshot: Snapshot) -> str:
    body = {k: v for k, v in snapshot.items() if k != "digest"}
    return "sha256:" + hashlib.sha256(canonical(body)).hexdigest()


def seal(snapshot: Snapshot) -> Snapshot:
    snapshot = {k: v for k, v in snapshot.items() if k != "digest"}
    snapshot["digest"] = digest_of(snapshot)
    return snapshot


def content_key(snapshot: Snapshot) -> str:
    """What the results say, regardless of when or under which version they were said."""
    body = {k: v for k, v in snapshot.items() if k not in _UNSEALED}
    return hashlib.sha256(canonical(body)).hexdigest()


def encode(snapshot: Snapshot) -> bytes:
    return canonical(snapshot)
