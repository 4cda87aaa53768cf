"""The ballot rules (API.md "Vote service", "Real ballot shapes"): which selections a
ballot may hold. Pure.

A ballot names exactly the contests of the voter's precinct (`contests_for`: every
contest without `precincts`, and the district contests listing it); each contest holds
0..max_choices distinct known options (an empty list is an abstention). `check_ballot`
returns the first broken rule as a sentence for the `detail` of `422 invalid_ballot`, or
None when valid.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from .election import ElectionDefinition, contests_for


def check_ballot(
    definition: ElectionDefinition, selections: Mapping[str, Sequence[str]], precinct_id: str
) -> str | None:
    contests = {c.contest_id: c for c in contests_for(definition, precinct_id)}
    for contest_id in selections:
        if contest_id not in contests:
            if all(c.contest_id != contest_id for c in definition.contests):
                return f"unknown contest {contest_id!r}"
            return f"contest {contest_id!r} is not on the ballot of precinct {precinct_id!r}"
    for contest_id, contest in contests.items():
        if contest_id not in selections:
            return f"contest {contest_id!r} is missing (send an empty list to abstain)"
        chosen = selections[contest_id]
        known = {o.option_id for o in contest.options}
        for option_id in chosen:
            if option_id not in known:
                return f"unknown option {option_id!r} in contest {contest_id!r}"
        if len(set(chosen)) != len(chosen):
            return f"an option is chosen twice in contest {contest_id!r}"
        if len(chosen) > contest.max_choices:
            return f"contest {contest_id!r} allows at most {contest.max_choices} choice(s), got {len(chosen)}"
    return None
