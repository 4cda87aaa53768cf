"""The results-snapshot invariants of API.md, checked on every snapshot a watcher sees.
Pure: no I/O, no Locust.

`check_snapshot` lists what one snapshot breaks; `VersionWatch` remembers, per watcher,
the last version seen for each results URL (a version going backwards is a violation) and,
per process, the digest published under each version (one version, two digests is a
violation: two different snapshots carried the same number).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
CENT = Decimal("0.01")


def _percent_sum(options: list[dict[str, Any]]) -> Decimal:
    # Decimal of the printed value: 33.33 + 33.33 + 33.34 must be exactly 100.00.
    return sum((Decimal(str(o.get("percent", 0))) for o in options), Decimal(0))


def _check_contest(contest: dict[str, Any], max_choices: int | None, voted: int) -> list[str]:
    cid = contest.get("contest_id", "?")
    errors: list[str] = []
    options = contest.get("options") or []
    ballots = contest.get("ballots", 0)
    abstentions = contest.get("abstentions", 0)
    votes = [o.get("votes", 0) for o in options]
    if min([ballots, abstentions, *votes]) < 0:
        errors.append(f"{cid}: negative count")
    if ballots > voted:
        errors.append(f"{cid}: ballots {ballots} > turnout.voted {voted}")
    if abstentions > ballots:
        errors.append(f"{cid}: abstentions {abstentions} > ballots {ballots}")
    total = sum(votes)
    if max_choices == 1 and total + abstentions != ballots:
        errors.append(f"{cid}: votes {total} + abstentions {abstentions} != ballots {ballots}")
    if max_choices and max_choices > 1 and total > (ballots - abstentions) * max_choices:
        errors.append(f"{cid}: {total} votes from {ballots - abstentions} ballots with max {max_choices}")
    for o in options:
        percent = Decimal(str(o.get("percent", 0)))
        if not 0 <= percent <= 100 or percent != percent.quantize(CENT):
            errors.append(f"{cid}/{o.get('option_id')}: percent {percent} out of range or not 2 decimals")
    if total == 0 and any(Decimal(str(o.get("percent", 0))) != 0 for o in options):
        errors.append(f"{cid}: no votes but a non-zero percent (a placeholder?)")
    if max_choices == 1 and total > 0 and _percent_sum(options) != 100:
        errors.append(f"{cid}: percents sum to {_percent_sum(options)}, not 100.00")
    if ballots > contest.get("eligible", ballots):
        errors.append(f"{cid}: ballots {ballots} > its eligible {contest.get('eligible')}")
    if "seats" in contest:  # a party list (API.md "Real ballot shapes")
        won = [o.get("seats", 0) for o in options]
        passing = any(o.get("passes_threshold") for o in options)
        if sum(won) != (contest["seats"] if passing else 0):
            errors.append(f"{cid}: seats add up to {sum(won)} of {contest['seats']}")
        if any(w and not o.get("passes_threshold") for w, o in zip(won, options)):
            errors.append(f"{cid}: a seat for an option below the threshold")
    return errors


def check_snapshot(snapshot: Mapping[str, Any], max_choices: Mapping[str, int] | None = None) -> list[str]:
    """Every API.md invariant `snapshot` breaks; [] when it is sound. `max_choices` maps
    contest ids to their rule (from the election definition); without it the
    single-choice-only rules are skipped."""
    errors: list[str] = []
    try:
        turnout = snapshot["turnout"]
        voted, eligible = turnout["voted"], turnout["eligible"]
        version = snapshot["version"]
        contests = snapshot["contests"]
    except (KeyError, TypeError) as exc:
        return [f"snapshot lacks a field: {exc}"]
    if not isinstance(version, int) or version < 0:
        errors.append(f"version {version!r} is not a non-negative integer")
    if not 0 <= voted <= eligible:
        errors.append(f"turnout: voted {voted} not within 0..eligible {eligible}")
    if not DIGEST.match(str(snapshot.get("digest", ""))):
        errors.append(f"digest {snapshot.get('digest')!r} is not sha256:<hex>")
    reporting, total = snapshot.get("precincts_reporting", 0), snapshot.get("precincts_total", 0)
    if not 0 <= reporting <= total:
        errors.append(f"precincts_reporting {reporting} not within 0..{total}")
    rules = max_choices or {}
    if max_choices is not None and {c.get("contest_id") for c in contests} != set(rules):
        errors.append("contests differ from the election definition")
    for contest in contests:
        errors.extend(_check_contest(contest, rules.get(contest.get("contest_id")), voted))
    return errors


class VersionWatch:
    """Versions one watcher has seen, per results URL: they must never go backwards."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def see(self, key: str, version: int) -> str | None:
        last = self._last.get(key)
        if last is not None and version < last:
            return f"{key}: version went backwards from {last} to {version}"
        self._last[key] = version
        return None


class DigestBook:
    """Digests per (results URL, version) across one process: a version names one snapshot."""

    def __init__(self, limit: int = 200_000) -> None:
        self._digests: dict[tuple[str, int], str] = {}
        self._limit = limit

    def see(self, key: str, version: int, digest: str) -> str | None:
        known = self._digests.get((key, version))
        if known is None:
            if len(self._digests) < self._limit:
                self._digests[(key, version)] = digest
            return None
        if known != digest:
            return f"{key}: version {version} published with two digests"
        return None
