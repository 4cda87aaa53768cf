"""The pure domain: largest-remainder percents, the snapshot builder and its invariants."""
from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from services.tally.counts import Tally
from services.tally.invariants import additivity, violations
from services.tally.rounding import shares
from services.tally.snapshot import build, content_key, digest_of, encode, seal
from tests.factories import definition

D = definition("city-2026")
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
PRECINCTS = [p.precinct_id for p in D.precincts]


def snapshot_of(tally: Tally, eligible=None, precinct_id=None, version=1):
    eligible = eligible or {p: 10_000 for p in PRECINCTS}
    return build(D, tally=tally, eligible=eligible, status="open", version=version, as_of=NOW, precinct_id=precinct_id)


@st.composite
def ballots(draw):
    """A list of valid ballots: (precinct_id, selections)."""
    out = []
    for _ in range(draw(st.integers(0, 60))):
        selections = {}
        for contest in D.contests:
            ids = [o.option_id for o in contest.options]
            k = draw(st.integers(0, contest.max_choices))
            selections[contest.contest_id] = draw(st.permutations(ids))[:k]
        out.append((draw(st.sampled_from(PRECINCTS)), selections))
    return out


def tally_of(ballot_list) -> Tally:
    tally = Tally()
    for precinct_id, selections in ballot_list:
        tally.add_ballot(precinct_id, selections, +1)
    return tally


@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=12))
def test_shares_of_a_nonzero_total_sum_to_exactly_100_00(counts):
    result = shares(counts)
    assert sum(result) == (10_000 if sum(counts) else 0)
    assert all(s >= 0 for s in result)
    total = sum(counts)
    if total:  # each share is its exact value rounded up or down to the hundredth
        for count, share in zip(counts, result):
            assert abs(share - count * 10_000 / total) < 1


def test_shares_without_votes_are_all_zero_never_a_placeholder():
    assert shares([0, 0, 0]) == [0, 0, 0]


def test_three_equal_shares_give_the_leftover_hundredth_to_the_first():
    assert shares([1, 1, 1]) == [3334, 3333, 3333]


@settings(max_examples=200, deadline=None)
@given(ballots())
def test_snapshots_built_from_any_ballots_pass_every_invariant(ballot_list):
    tally = tally_of(ballot_list)
    total = snapshot_of(tally)
    assert violations(total, D) == []
    precincts = [snapshot_of(tally, precinct_id=p) for p in PRECINCTS]
    assert all(violations(p, D) == [] for p in precincts)
    assert additivity(total, precincts) == []
    for contest in total["contests"]:
        percents = sum(round(o["percent"] * 100) for o in contest["options"])
        votes = sum(o["votes"] for o in contest["options"])
        assert percents == (10_000 if votes else 0)


@settings(max_examples=200, deadline=None)
@given(ballots().filter(lambda b: len(b) > 0), st.data())
def test_a_row_counted_twice_is_refused_for_publication(ballot_list, data):
    tally = tally_of(ballot_list)
    precinct_id, selections = data.draw(st.sampled_from(ballot_list))
    kind = data.draw(st.sampled_from(["vote", "ballot", "turnout"]))
    contest_id = data.draw(st.sampled_from(["mayor", "council"]))
    chosen = selections[contest_id]
    if kind == "vote" and chosen:  # one option row of a ballot added twice
        key = (precinct_id, contest_id, data.draw(st.sampled_from(chosen)))
        tally.votes[key] += 1
    elif kind == "ballot":  # the contest row added twice
        key = (precinct_id, contest_id)
        tally.ballots[key] = tally.ballots.get(key, 0) + 1
    else:  # the whole ballot counted twice in the turnout only
        tally.voted[precinct_id] += 1
    total = snapshot_of(tally)
    if kind == "vote" and not chosen:
        return
    if kind == "vote" and contest_id == "council":
        # a doubled vote in a two-choice contest may look like a second choice; the
        # recount catches that one (test_recount), unless it breaks a bound here
        return
    assert violations(total, D) != []


def test_a_ballot_counted_twice_everywhere_is_caught_by_the_eligible_bound():
    tally = Tally()
    tally.add_ballot("p1", {"mayor": ["alice"], "council": []}, +1)
    tally.add_ballot("p1", {"mayor": ["alice"], "council": []}, +1)
    snap = snapshot_of(tally, eligible={"p1": 1, "p2": 0, "p9": 0})
    assert any("outside 0..eligible" in v for v in violations(snap, D))


def test_negative_counts_versions_and_digests_are_checked():
    tally = Tally()
    tally.add_ballot("p1", {"mayor": ["alice"], "council": ["green"]}, -1)
    assert any("negative" in v for v in violations(snapshot_of(tally), D))
    good = snapshot_of(Tally(), version=3)
    assert any("does not follow" in v for v in violations(good, D, previous_version=3))
    forged = dict(good, precincts_reporting=1)
    assert any("digest" in v for v in violations(forged, D))


def test_precinct_snapshots_that_do_not_add_up_are_caught():
    tally = Tally()
    tally.add_ballot("p1", {"mayor": ["bob"], "council": ["red", "gold"]}, +1)
    total = snapshot_of(tally)
    wrong = [snapshot_of(tally, precinct_id="p1"), snapshot_of(tally, precinct_id="p1"), snapshot_of(Tally(), precinct_id="p9")]
    assert additivity(total, wrong) != []


def test_the_digest_seals_the_canonical_body_and_content_key_ignores_the_version():
    tally = Tally()
    tally.add_ballot("p2", {"mayor": ["carol"], "council": ["blue"]}, +1)
    a, b = snapshot_of(tally, version=1), snapshot_of(tally, version=2)
    assert a["digest"] == digest_of(a) and a["digest"].startswith("sha256:")
    assert content_key(a) == content_key(b) and a["digest"] != b["digest"]
    assert encode(seal(dict(a))) == encode(a)
    assert a["turnout"] == {"eligible": 30_000, "voted": 1, "percent": 0.0}
    assert a["precincts_reporting"] == 1 and a["precincts_total"] == 3
