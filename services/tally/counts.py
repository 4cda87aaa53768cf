"""Tally arithmetic: counts per precinct, contest and option, and the deltas ballots add.
Pure: no I/O.

A ballot names exactly the contests of its precinct (the vote service's contract: every
contest but the districts of other precincts): each contest it names counts one ballot,
an empty list one abstention, each chosen option one vote; the ballot also counts once in
its precinct's turnout. A superseded or annulled ballot is removed by the
same arithmetic with delta -1.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

VoteKey = tuple[str, str, str]  # (precinct_id, contest_id, option_id)
ContestKey = tuple[str, str]  # (precinct_id, contest_id)


def _add(target: dict, key, delta: int) -> None:
    value = target.get(key, 0) + delta
    if value:
        target[key] = value
    else:
        target.pop(key, None)


@dataclass
class Tally:
    """Counts (or deltas) for one election. Zero entries are never stored."""

    votes: dict[VoteKey, int] = field(default_factory=dict)
    ballots: dict[ContestKey, int] = field(default_factory=dict)
    abstentions: dict[ContestKey, int] = field(default_factory=dict)
    voted: dict[str, int] = field(default_factory=dict)

    def add_ballot(self, precinct_id: str, selections: Mapping[str, Sequence[str]], delta: int) -> None:
        _add(self.voted, precinct_id, delta)
        for contest_id, options in selections.items():
            _add(self.ballots, (precinct_id, contest_id), delta)
            if not options:
                _add(self.abstentions, (precinct_id, contest_id), delta)
            for option_id in options:
                _add(self.votes, (precinct_id, contest_id, option_id), delta)

    def merge(self, other: "Tally") -> "Tally":
        for mine, theirs in self._pairs(other):
            for key, delta in theirs.items():
                _add(mine, key, delta)
        return self

    def minus(self, other: "Tally") -> "Tally":
        result = Tally().merge(self)
        for mine, theirs in result._pairs(other):
            for key, delta in theirs.items():
                _add(mine, key, -delta)
        return result

    def _pairs(self, other: "Tally") -> Iterable[tuple[dict, dict]]:
        return (
            (self.votes, other.votes),
            (self.ballots, other.ballots),
            (self.abstentions, other.abstentions),
            (self.voted, other.voted),
        )

    def precinct(self, precinct_id: str) -> "Tally":
        return Tally(
            votes={k: v for k, v in self.votes.items() if k[0] == precinct_id},
            ballots={k: v for k, v in self.ballots.items() if k[0] == precinct_id},
            abstentions={k: v for k, v in self.abstentions.items() if k[0] == precinct_id},
            voted={k: v for k, v in self.voted.items() if k == precinct_id},
        )

    def is_empty(self) -> bool:
        return not (self.votes or self.ballots or self.abstentions or self.voted)


def differences(expected: Tally, actual: Tally) -> list[str]:
    """Every count where `actual` differs from `expected`, as sentences for an alert."""
    out = []
    names = ("votes", "ballots", "abstentions", "voted")
    for name, (want, got) in zip(names, expected._pairs(actual)):
        for key in sorted(set(want) | set(got), key=repr):
            if want.get(key, 0) != got.get(key, 0):
                where = "/".join(key) if isinstance(key, tuple) else key
                out.append(f"{name}[{where}]: expected {want.get(key, 0)}, counted {got.get(key, 0)}")
    return out
