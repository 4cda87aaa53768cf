"""Property tests for the ballot rules (services/common/ballot.py check_ballot)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.ballot import check_ballot
from services.common.election import Contest, ElectionDefinition, Option, Precinct, contests_for

ids = st.text(alphabet="abcdefgh123_-", min_size=1, max_size=6)
PRECINCTS = ["p", "q", "r"]


@st.composite
def elections(draw) -> ElectionDefinition:
    contest_ids = draw(st.lists(ids, min_size=1, max_size=4, unique=True))
    contests = []
    for contest_id in contest_ids:
        options = draw(st.lists(ids, min_size=1, max_size=5, unique=True))
        max_choices = draw(st.integers(1, len(options)))
        # now and then a district contest, on the ballots of some precincts only
        district = draw(st.one_of(st.none(), st.lists(st.sampled_from(PRECINCTS), min_size=1, unique=True)))
        contests.append(Contest(contest_id, contest_id, [Option(o, o) for o in options], max_choices, district))
    opens = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return ElectionDefinition("e", "E", opens, opens + timedelta(days=1), contests, [Precinct(p, p) for p in PRECINCTS])


def follows_the_rules(d: ElectionDefinition, selections: dict[str, list[str]], precinct: str) -> bool:
    """The rules of API.md, written independently of check_ballot."""
    contests = {c.contest_id: c for c in d.contests if c.precincts is None or precinct in c.precincts}
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
    precinct = draw(st.sampled_from(PRECINCTS))
    for contest in d.contests:
        if contest.precincts is not None and precinct not in contest.precincts and draw(st.integers(0, 3)):
            continue  # mostly leave out the districts of other precincts
        if draw(st.booleans()) and draw(st.integers(0, 9)) == 0:
            continue  # a missing contest, now and then
        known = [o.option_id for o in contest.options]
        pool = known + (["zz-unknown"] if draw(st.integers(0, 5)) == 0 else [])
        selections[contest.contest_id] = draw(st.lists(st.sampled_from(pool), max_size=contest.max_choices + 1))
    if draw(st.integers(0, 9)) == 0:
        selections[draw(ids) + "-extra"] = []
    return d, selections, precinct


@settings(max_examples=400)
@given(election_and_selections())
def test_a_ballot_is_accepted_exactly_when_it_follows_every_rule(case):
    d, selections, precinct = case
    assert (check_ballot(d, selections, precinct) is None) == follows_the_rules(d, selections, precinct)


@settings(max_examples=200)
@given(elections(), st.data())
def test_any_choice_within_the_limits_is_valid_in_any_order(d, data):
    selections = {}
    for contest in contests_for(d, "p"):
        chosen = data.draw(st.lists(st.sampled_from([o.option_id for o in contest.options]), unique=True, max_size=contest.max_choices))
        selections[contest.contest_id] = data.draw(st.permutations(chosen))
    assert check_ballot(d, selections, "p") is None
    assert check_ballot(d, {c.contest_id: [] for c in contests_for(d, "p")}, "p") is None  # abstaining everywhere


@given(elections(), ids)
def test_an_unknown_contest_is_named_in_the_refusal(d, extra):
    selections = {c.contest_id: [] for c in contests_for(d, "p")}
    name = extra + "-x"
    selections[name] = []
    assert repr(name) in check_ballot(d, selections, "p")


def test_a_district_contest_is_on_its_precincts_ballots_only():
    opens = datetime(2026, 1, 1, tzinfo=timezone.utc)
    options = [Option("a", "A"), Option("none", "Against all", kind="against_all")]
    d = ElectionDefinition("e", "E", opens, opens + timedelta(days=1), [
        Contest("list", "List", options),
        Contest("d1", "District 1", options, precincts=["p"]),
        Contest("d2", "District 2", options, precincts=["q", "r"]),
    ], [Precinct(p, p) for p in PRECINCTS])
    assert check_ballot(d, {"list": ["a"], "d1": ["none"]}, "p") is None
    assert check_ballot(d, {"list": ["a"], "d2": []}, "q") is None
    assert "not on the ballot of precinct 'p'" in check_ballot(d, {"list": [], "d1": [], "d2": []}, "p")
    assert "'d2' is missing" in check_ballot(d, {"list": []}, "r")
