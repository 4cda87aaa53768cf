"""Property tests for the ballot rules (services/common/ballot.py check_ballot)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.ballot import check_ballot
from services.common.election import Contest, ElectionDefinition, Option, Precinct

ids = st.text(alphabet="abcdefgh123_-", min_size=1, max_size=6)


@st.composite
def elections(draw) -> ElectionDefinition:
    contest_ids = draw(st.lists(ids, min_size=1, max_size=4, unique=True))
    contests = []
    for contest_id in contest_ids:
        options = draw(st.lists(ids, min_size=1, max_size=5, unique=True))
        max_choices = draw(st.integers(1, len(options)))
        contests.append(Contest(contest_id, contest_id, [Option(o, o) for o in options], max_choices))
    opens = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return ElectionDefinition("e", "E", opens, opens + timedelta(days=1), contests, [Precinct("p", "P")])


def follows_the_rules(d: ElectionDefinition, selections: dict[str, list[str]]) -> bool:
    """The rules of API.md, written independently of check_ballot."""
    contests = {c.contest_id: c for c in d.contests}
    return set(selections) == set(contests) and all(
        len(chosen) == len(set(chosen))
        and len(chosen) <= contests[cid].max_choices
        and set(chosen) <= {o.option_id for o in contests[cid].options}
        for cid, chosen in selections.items()
    )


@st.composite
def election_and_selections(draw):
    d = draw(elections())
    selections = {}
    for contest in d.contests:
        if draw(st.booleans()) and draw(st.integers(0, 9)) == 0:
            continue  # a missing contest, now and then
        known = [o.option_id for o in contest.options]
        pool = known + (["zz-unknown"] if draw(st.integers(0, 5)) == 0 else [])
        selections[contest.contest_id] = draw(st.lists(st.sampled_from(pool), max_size=contest.max_choices + 1))
    if draw(st.integers(0, 9)) == 0:
        selections[draw(ids) + "-extra"] = []
    return d, selections


@settings(max_examples=400)
@given(election_and_selections())
def test_a_ballot_is_accepted_exactly_when_it_follows_every_rule(case):
    d, selections = case
    assert (check_ballot(d, selections) is None) == follows_the_rules(d, selections)


@settings(max_examples=200)
@given(elections(), st.data())
def test_any_choice_within_the_limits_is_valid_in_any_order(d, data):
    selections = {}
    for contest in d.contests:
        chosen = data.draw(st.lists(st.sampled_from([o.option_id for o in contest.options]), unique=True, max_size=contest.max_choices))
        selections[contest.contest_id] = data.draw(st.permutations(chosen))
    assert check_ballot(d, selections) is None
    assert check_ballot(d, {c.contest_id: [] for c in d.contests}) is None  # abstaining everywhere


@given(elections(), ids)
def test_an_unknown_contest_is_named_in_the_refusal(d, extra):
    selections = {c.contest_id: [] for c in d.contests}
    name = extra + "-x"
    selections[name] = []
    assert repr(name) in check_ballot(d, selections)
