"""The snapshot checker catches what real results sites got wrong: shares summing to
150%, totals that do not add up, placeholders, numbers moving backwards."""
from __future__ import annotations

import copy

from loadtests.invariants import DigestBook, VersionWatch, check_snapshot

RULES = {"mayor": 1, "council": 2}


def snapshot(**changes) -> dict:
    s = {
        "election_id": "e", "version": 7, "as_of": "2026-11-21T10:00:00Z", "status": "open",
        "turnout": {"eligible": 100, "voted": 10, "percent": 10.0},
        "precincts_reporting": 2, "precincts_total": 3,
        "contests": [
            {"contest_id": "mayor", "ballots": 10, "abstentions": 1, "options": [
                {"option_id": "a", "votes": 3, "percent": 33.33}, {"option_id": "b", "votes": 3, "percent": 33.33},
                {"option_id": "c", "votes": 3, "percent": 33.34}]},
            {"contest_id": "council", "ballots": 10, "abstentions": 0, "options": [
                {"option_id": "x", "votes": 9, "percent": 60.0}, {"option_id": "y", "votes": 6, "percent": 40.0}]},
        ],
        "digest": "sha256:" + "ab" * 32,
    }
    s.update(changes)
    return s


def test_a_sound_snapshot_breaks_nothing():
    assert check_snapshot(snapshot(), RULES) == []


def test_single_choice_percents_must_sum_to_exactly_100():
    s = snapshot()
    s["contests"][0]["options"][2]["percent"] = 83.34  # "150%"
    assert any("sum to" in p for p in check_snapshot(s, RULES))


def test_single_choice_votes_plus_abstentions_must_equal_ballots():
    s = snapshot()
    s["contests"][0]["options"][0]["votes"] = 4
    assert any("!= ballots" in p for p in check_snapshot(s, RULES))


def test_ballots_cannot_exceed_voted_nor_voted_eligible():
    assert any("turnout" in p for p in check_snapshot(snapshot(turnout={"eligible": 5, "voted": 10, "percent": 200}), RULES))
    s = snapshot()
    s["turnout"]["voted"] = 9
    assert any("> turnout.voted" in p for p in check_snapshot(s, RULES))


def test_no_votes_means_zero_percent_never_a_placeholder():
    s = snapshot(turnout={"eligible": 100, "voted": 0, "percent": 0})
    for c in s["contests"]:
        c["ballots"] = c["abstentions"] = 0
        for o in c["options"]:
            o["votes"], o["percent"] = 0, 0
    assert check_snapshot(s, RULES) == []
    s["contests"][0]["options"][0]["percent"] = 50.0
    assert any("placeholder" in p for p in check_snapshot(s, RULES))


def test_missing_fields_and_bad_digest_are_reported():
    assert check_snapshot({"version": 1}, RULES)[0].startswith("snapshot lacks")
    assert any("digest" in p for p in check_snapshot(snapshot(digest="md5:1"), RULES))


def test_versions_never_go_backwards_for_one_watcher():
    watch = VersionWatch()
    assert watch.see("u", 3) is None and watch.see("u", 3) is None and watch.see("u", 4) is None
    assert "backwards" in watch.see("u", 2)
    assert watch.see("other", 1) is None


def test_one_version_names_one_snapshot():
    book = DigestBook()
    assert book.see("u", 1, "sha256:a") is None and book.see("u", 1, "sha256:a") is None
    assert "two digests" in book.see("u", 1, "sha256:b")


def test_checker_does_not_modify_the_snapshot():
    s = snapshot()
    before = copy.deepcopy(s)
    check_snapshot(s, RULES)
    assert s == before


def party_list(**changes) -> dict:
    s = snapshot()
    s["contests"][0].update(eligible=100, seats=5, tie_broken=False)
    for option, (passes, seats) in zip(s["contests"][0]["options"], [(True, 3), (True, 2), (False, 0)]):
        option.update(passes_threshold=passes, seats=seats)
    s["contests"][0].update(changes)
    return s


def test_party_list_seats_must_add_up_and_stay_above_the_threshold():
    assert check_snapshot(party_list(), RULES) == []
    short = party_list()
    short["contests"][0]["options"][1]["seats"] = 1
    assert any("seats add up to 4 of 5" in p for p in check_snapshot(short, RULES))
    below = party_list()
    below["contests"][0]["options"][1]["seats"], below["contests"][0]["options"][2]["seats"] = 1, 1
    assert any("below the threshold" in p for p in check_snapshot(below, RULES))


def test_a_contest_cannot_count_more_ballots_than_its_eligible():
    assert any("its eligible 9" in p for p in check_snapshot(party_list(eligible=9), RULES))
