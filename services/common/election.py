"""The election definition (API.md "Operator formats") and its rules. Pure: no I/O.

`ElectionDefinition` is what an operator writes; `check_definition` lists every rule it
breaks as (field path, reason); `Election` is a definition as the services hold it, with
its effective opening and closing times; `status` derives the phase from the clock.

Ballot shapes (API.md "Real ballot shapes"): a contest with `precincts` is a district
contest, on the ballots of those precincts only (`contests_for`); a contest with `seats`
hands them out by `allocation` among the options that reach `threshold_percent` of its
ballots; an option of `kind: against_all` is counted but never passes a threshold.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import msgspec

ID_PATTERN = re.compile(r"^[a-z0-9-]{1,64}$")
ITEM_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
AUTH_METHODS = ("otp", "signature")


ALLOCATIONS = ("dhondt", "sainte-lague", "hare")
Allocation = Literal["dhondt", "sainte-lague", "hare"]


class Option(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):  # no "kind": null
    option_id: str
    title: str
    kind: Literal["against_all"] | None = None


class Contest(msgspec.Struct, forbid_unknown_fields=True):
    contest_id: str
    title: str
    options: list[Option]
    max_choices: int = 1
    precincts: list[str] | None = None  # None: every precinct's ballot holds the contest
    seats: int | None = None
    threshold_percent: float | None = None  # of the contest's ballots; hundredths at most
    allocation: Allocation | None = None  # with seats; None means dhondt

    @property
    def method(self) -> Allocation:
        return self.allocation or "dhondt"

    @property
    def threshold_hundredths(self) -> int:
        """The threshold in hundredths of a percent: shares compare as integers."""
        return round((self.threshold_percent or 0) * 100)


class Precinct(msgspec.Struct, forbid_unknown_fields=True):
    precinct_id: str
    name: str
    channel: Literal["online", "paper"] = "online"


class ElectionDefinition(msgspec.Struct, forbid_unknown_fields=True):
    election_id: str
    title: str
    opens_at: datetime
    closes_at: datetime
    contests: list[Contest]
    precincts: list[Precinct]
    revoting: bool = False
    auth_methods: list[Literal["otp", "signature"]] = msgspec.field(default_factory=lambda: ["otp"])


@dataclass(frozen=True)
class RuleError:
    path: str  # e.g. "contests[1].max_choices"
    reason: str


def _duplicates(ids: list[str]) -> set[str]:
    seen: set[str] = set()
    return {i for i in ids if i in seen or seen.add(i)}  # type: ignore[func-returns-value]


def check_definition(d: ElectionDefinition) -> list[RuleError]:
    """Every rule the definition breaks; an empty list means it is valid."""
    errors: list[RuleError] = []
    if not ID_PATTERN.match(d.election_id):
        errors.append(RuleError("election_id", "must match [a-z0-9-]{1,64}"))
    if not d.title.strip():
        errors.append(RuleError("title", "must not be empty"))
    for name in ("opens_at", "closes_at"):
        if getattr(d, name).tzinfo is None:
            errors.append(RuleError(name, "must carry a time zone, e.g. 2026-11-21T06:00:00Z"))
    if d.opens_at.tzinfo and d.closes_at.tzinfo and d.closes_at <= d.opens_at:
        errors.append(RuleError("closes_at", "must be after opens_at"))
    if not d.auth_methods:
        errors.append(RuleError("auth_methods", "must name at least one of otp, signature"))
    for dup in sorted(_duplicates(list(d.auth_methods))):
        errors.append(RuleError("auth_methods", f"{dup!r} appears twice"))
    if not d.contests:
        errors.append(RuleError("contests", "an election needs at least one contest"))
    for dup in sorted(_duplicates([c.contest_id for c in d.contests])):
        errors.append(RuleError("contests", f"contest_id {dup!r} appears twice"))
    known = {p.precinct_id for p in d.precincts}
    for i, contest in enumerate(d.contests):
        errors.extend(_check_contest(f"contests[{i}]", contest))
        errors.extend(_check_shape(f"contests[{i}]", contest, known))
    if not d.precincts:
        errors.append(RuleError("precincts", "an election needs at least one precinct"))
    for dup in sorted(_duplicates([p.precinct_id for p in d.precincts])):
        errors.append(RuleError("precincts", f"precinct_id {dup!r} appears twice"))
    for i, precinct in enumerate(d.precincts):
        if not ITEM_ID_PATTERN.match(precinct.precinct_id):
            errors.append(RuleError(f"precincts[{i}].precinct_id", "must match [A-Za-z0-9_.-]{1,64}"))
        if not precinct.name.strip():
            errors.append(RuleError(f"precincts[{i}].name", "must not be empty"))
        if d.contests and not contests_for(d, precinct.precinct_id):
            errors.append(RuleError(f"precincts[{i}]", f"no contest applies to {precinct.precinct_id!r}"))
    return errors


def _check_shape(path: str, contest: Contest, known: set[str]) -> list[RuleError]:
    """District precincts, seats, threshold, allocation, against_all."""
    errors = []
    if contest.precincts is not None:
        if not contest.precincts:
            errors.append(RuleError(f"{path}.precincts", "must name at least one precinct (leave it out for all)"))
        for dup in sorted(_duplicates(list(contest.precincts))):
            errors.append(RuleError(f"{path}.precincts", f"precinct {dup!r} appears twice"))
        for k, precinct_id in enumerate(contest.precincts):
            if precinct_id not in known:
                errors.append(RuleError(f"{path}.precincts[{k}]", f"{precinct_id!r} is not a precinct of the election"))
    candidates = [o for o in contest.options if o.kind != "against_all"]
    if len(contest.options) - len(candidates) > 1:
        errors.append(RuleError(f"{path}.options", "at most one option may be of kind against_all"))
    if contest.seats is None:
        for name in ("threshold_percent", "allocation"):
            if getattr(contest, name) is not None:
                errors.append(RuleError(f"{path}.{name}", "applies only to a contest with seats"))
        return errors
    if not 1 <= contest.seats <= 10_000:
        errors.append(RuleError(f"{path}.seats", "must be between 1 and 10000"))
    if contest.options and not candidates:
        errors.append(RuleError(f"{path}.options", "a contest with seats needs an option that is not against_all"))
    threshold = contest.threshold_percent
    if threshold is not None:
        if not 0 <= threshold < 100:
            errors.append(RuleError(f"{path}.threshold_percent", "must be at least 0 and below 100"))
        elif abs(threshold * 100 - round(threshold * 100)) > 1e-6:
            errors.append(RuleError(f"{path}.threshold_percent", "at most two decimals (e.g. 5 or 3.25)"))
    return errors


def contests_for(d: ElectionDefinition, precinct_id: str) -> list[Contest]:
    """The contests on the ballot of a voter of this precinct, in definition order."""
    return list(_ballots(d).get(precinct_id, ()))


# Each ballot is checked against its precinct's contests: an index per definition, not a
# scan of every district's precinct list (225 districts of 40 precincts: 200 µs a ballot).
_indexes: dict[int, tuple[ElectionDefinition, dict[str, tuple[Contest, ...]]]] = {}


def _ballots(d: ElectionDefinition) -> dict[str, tuple[Contest, ...]]:
    cached = _indexes.get(id(d))
    if cached is not None and cached[0] is d:
        return cached[1]
    lists: dict[str, list[Contest]] = {p.precinct_id: [] for p in d.precincts}
    for contest in d.contests:
        for precinct_id in lists if contest.precincts is None else dict.fromkeys(contest.precincts):
            if precinct_id in lists:
                lists[precinct_id].append(contest)
    index = {precinct_id: tuple(contests) for precinct_id, contests in lists.items()}
    if len(_indexes) >= 64:  # definitions are few and long-lived; forget them all now and then
        _indexes.clear()
    _indexes[id(d)] = (d, index)
    return index


def _check_contest(path: str, contest: Contest) -> list[RuleError]:
    errors = []
    if not ITEM_ID_PATTERN.match(contest.contest_id):
        errors.append(RuleError(f"{path}.contest_id", "must match [A-Za-z0-9_.-]{1,64}"))
    if not contest.title.strip():
        errors.append(RuleError(f"{path}.title", "must not be empty"))
    if not contest.options:
        errors.append(RuleError(f"{path}.options", "a contest needs at least one option"))
    elif not 1 <= contest.max_choices <= len(contest.options):
        errors.append(
            RuleError(f"{path}.max_choices", f"must be between 1 and the number of options ({len(contest.options)})")
        )
    for dup in sorted(_duplicates([o.option_id for o in contest.options])):
        errors.append(RuleError(f"{path}.options", f"option_id {dup!r} appears twice"))
    for j, option in enumerate(contest.options):
        if not ITEM_ID_PATTERN.match(option.option_id):
            errors.append(RuleError(f"{path}.options[{j}].option_id", "must match [A-Za-z0-9_.-]{1,64}"))
        if not option.title.strip():
            errors.append(RuleError(f"{path}.options[{j}].title", "must not be empty"))
    return errors


Status = Literal["scheduled", "open", "closed"]


@dataclass(frozen=True)
class Election:
    """An election as the services hold it in memory. `opens_at`/`closes_at` are the
    effective times: the schedule, moved by `ballotline election open|close`."""

    definition: ElectionDefinition
    opens_at: datetime
    closes_at: datetime

    @property
    def election_id(self) -> str:
        return self.definition.election_id

    def status(self, now: datetime) -> Status:
        if now < self.opens_at:
            return "scheduled"
        if now < self.closes_at:
            return "open"
        return "closed"

    def precinct(self, precinct_id: str) -> Precinct | None:
        for p in self.definition.precincts:
            if p.precinct_id == precinct_id:
                return p
        return None
