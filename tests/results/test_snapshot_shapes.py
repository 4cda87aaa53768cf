"""Snapshots of districts and party lists (API.md "Real ballot shapes"): per-contest
`eligible`, counts only where a contest applies, seats above the threshold, and the
invariants that refuse anything else."""
from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.election import Contest, Option, contests_for
from services.tally.counts import Tally
from services.tally.invariants import additivity, violations
from services.tally.snapshot import build, seal
from tests.factories import definition

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
AGAINST = Option("against-all", "Against all", kind="against_all")
PARTIES = [Option(p, p.title()) for p in ("red", "blue", "green", "tiny")]
D = definition("shapes", contests=[
    Contest("north", "North district", [Option("ann", "Ann"), AGAINST], precincts=["p1"]),
    Contest("south", "South district", [Option("ben", "Ben"), Option("cy", "Cy"), AGAINST], precincts=["p2", "p9"]),
    Contest("list", "Party list", [*PARTIES, AGAINST], seats=10, threshold_percent=5),
])
PRECINCTS = [p.precinct_id for p in D.precincts]
ELIGIBLE = {"p1": 1_000, "p2": 2_000, "p9": 500}


def snapshot_of(tally: Tally, precinct_id: str | None = None, d=D) -> dict:
    return build(d, tally=tally, eligible=ELIGIBLE, status="open", version=1, as_of=NOW, precinct_id=precinct_id)


def contest(snapshot: dict, contest_id: str) -> dict:
    return next(c for c in snapshot["contests"] if c["contest_id"] == contest_id)


def list_tally(votes: dict[str, int], precinct: str = "p1") -> Tally:
    tally = Tally()
    district = "north" if precinct == "p1" else "south"
    for option_id, n in votes.items():
        for _ in range(n):
            tally.add_ballot(precinct, {"list": [option_id] if option_id else [], district: []}, +1)
    return tally


def test_each_contest_carries_the_eligible_of_its_own_precincts():
    total = snapshot_of(Tally())
    assert [contest(total, c)["eligible"] for c in ("north", "south", "list")] == [1_000, 2_500, 3_500]
    outside = snapshot_of(Tally(), "p1")
    assert [contest(outside, c)["eligible"] for c in ("north", "south", "list")] == [1_000, 0, 1_000]


def test_the_party_list_gets_seats_above_the_threshold_and_against_all_none():
    # 200 ballots: red 90, blue 60, against-all 30, green 12 (6%), tiny 6 (3%), 2 abstain.
    tally = list_tally({"red": 90, "blue": 60, "against-all": 30, "green": 12, "tiny": 6, "": 2})
    result = contest(snapshot_of(tally), "list")
    by_id = {o["option_id"]: (o["votes"], o["passes_threshold"], o["seats"]) for o in result["options"]}
    # D'Hondt over red 90, blue 60, green 12 for 10 seats: quotients 90 60 45 30 30 22.5 20 18 15 15 → 6/4/0
    assert by_id == {
        "red": (90, True, 6), "blue": (60, True, 4), "green": (12, True, 0),
        "tiny": (6, False, 0), "against-all": (30, False, 0),
    }
    assert (result["seats"], result["tie_broken"], result["ballots"]) == (10, False, 200)
    assert violations(snapshot_of(tally), D) == []


def test_a_threshold_is_a_share_of_the_contests_ballots_exactly():
    # 100 ballots: green has exactly 5 of them (5.00%), tiny 4.
    tally = list_tally({"red": 91, "green": 5, "tiny": 4})
    options = {o["option_id"]: o for o in contest(snapshot_of(tally), "list")["options"]}
    assert options["green"]["passes_threshold"] and not options["tiny"]["passes_threshold"]


def test_a_tie_for_the_last_seat_is_said():
    tally = list_tally({"red": 30, "blue": 30, "green": 30})  # 10 seats among three equals
    result = contest(snapshot_of(tally), "list")
    assert [o["seats"] for o in result["options"]] == [4, 3, 3, 0, 0] and result["tie_broken"] is True
    assert violations(snapshot_of(tally), D) == []


def test_without_votes_nobody_passes_and_no_seat_is_given():
    result = contest(snapshot_of(Tally()), "list")
    assert [o["seats"] for o in result["options"]] == [0] * 5 and not any(o["passes_threshold"] for o in result["options"])
    assert violations(snapshot_of(Tally()), D) == []


def test_precinct_snapshots_show_no_seats():
    snap = snapshot_of(list_tally({"red": 3}), "p1")
    assert "seats" not in contest(snap, "list") and "seats" not in contest(snap, "list")["options"][0]
    assert violations(snap, D) == []


@st.composite
def ballots(draw):
    out = []
    for _ in range(draw(st.integers(0, 80))):
        precinct = draw(st.sampled_from(PRECINCTS))
        selections = {}
        for c in contests_for(D, precinct):
            ids = [o.option_id for o in c.options]
            selections[c.contest_id] = draw(st.permutations(ids))[: draw(st.integers(0, c.max_choices))]
        out.append((precinct, selections))
    return out


@settings(max_examples=200, deadline=None)
@given(ballots())
def test_snapshots_of_any_district_ballots_pass_every_invariant(ballot_list):
    tally = Tally()
    for precinct, selections in ballot_list:
        tally.add_ballot(precinct, selections, +1)
    total = snapshot_of(tally)
    precincts = [snapshot_of(tally, p) for p in PRECINCTS]
    assert violations(total, D) == []
    assert [violations(p, D) for p in precincts] == [[]] * len(PRECINCTS)
    assert additivity(total, precincts) == []
    assert contest(total, "north")["ballots"] == sum(1 for p, _ in ballot_list if p == "p1")
    assert contest(total, "list")["ballots"] == len(ballot_list)
    assert sum(o["seats"] for o in contest(total, "list")["options"]) in (0, 10)


def tampered(snapshot: dict, contest_id: str, change) -> dict:
    snap = {**snapshot, "contests": [dict(c, options=[dict(o) for o in c["options"]]) for c in snapshot["contests"]]}
    change(contest(snap, contest_id))
    return seal(snap)


def test_a_ballot_counted_outside_its_district_is_refused():
    tally = list_tally({"red": 5}, precinct="p2")
    tally.add_ballot("p2", {"north": ["ann"]}, +1)  # a north ballot counted in p2
    tally.voted["p2"] -= 1  # ... without its turnout, so only the district rule can see it
    problems = violations(snapshot_of(tally, "p2"), D)
    assert any("north: ballots 1 differ from the 0" in p for p in problems), problems


def test_seats_that_do_not_follow_the_rules_are_refused():
    good = snapshot_of(list_tally({"red": 90, "blue": 60, "against-all": 30, "tiny": 6}))

    def move_seat(to: str):
        def change(c):
            c["options"][0]["seats"] -= 1
            next(o for o in c["options"] if o["option_id"] == to)["seats"] += 1
        return change

    def unpass(c):
        c["options"][1]["passes_threshold"] = False

    cases = {
        "another allocation": (move_seat("blue"), "allocation of the passing votes"),
        "a seat below the threshold": (move_seat("tiny"), "without passing the threshold"),
        "a seat for against all": (move_seat("against-all"), "against-all: 1 seat(s) without passing"),
        "a wrong threshold verdict": (unpass, "blue: passes_threshold should be True"),
        "a seat too many": (lambda c: c["options"][0].update(seats=c["options"][0]["seats"] + 1), "seats add up to 11"),
        "a tie said where none is": (lambda c: c.update(tie_broken=True), "allocation of the passing votes"),
        "a district eligible": (lambda c: c.update(eligible=c["eligible"] + 1), "eligible 3501"),
    }
    for name, (change, expected) in cases.items():
        contest_id = "list"
        problems = violations(tampered(good, contest_id, change), D)
        assert any(expected in p for p in problems), (name, problems)


def test_a_district_eligible_that_does_not_add_up_is_caught():
    tally = list_tally({"red": 1})
    total = snapshot_of(tally)
    precincts = [snapshot_of(tally, p) for p in PRECINCTS]
    precincts[1] = tampered(precincts[1], "south", lambda c: c.update(eligible=c["eligible"] - 1))
    assert any("south: precincts' eligible add up to" in p for p in additivity(total, precincts))
