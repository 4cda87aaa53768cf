"""The audit's judgement of a ledger against the ballots table, and the SLO verdict,
without a database or Locust (the smoke test runs them for real)."""
from __future__ import annotations

from loadtests.audit import compare_snapshot, judge_ledger, line
from loadtests.ledger import Entry, LedgerWriter, read_ledger
from loadtests.slo import Endpoint, Thresholds, breaches


def receipt(voter: str, rid: str, seq: int = 1, election: str = "e") -> Entry:
    return Entry("receipt", election, voter, f"k-{rid}", rid, seq, float(seq))


def attempt(voter: str, seq: int, election: str = "e") -> Entry:
    return Entry("attempt", election, voter, f"a-{voter}-{seq}", None, seq, float(seq))


def test_every_receipt_counted_once_is_clean():
    lost, dup, figures = judge_ledger([attempt("v1", 1), receipt("v1", "r1")], {"r1": ("e", False, False)})
    assert (lost, dup) == ([], []) and figures["receipts"] == 1


def test_a_receipt_missing_from_the_database_is_lost():
    lost, _, _ = judge_ledger([receipt("v1", "r1")], {})
    assert len(lost) == 1


def test_a_revote_supersedes_the_first_receipt_and_that_is_fine():
    entries = [receipt("v1", "r1", 1), receipt("v1", "r2", 2)]
    lost, dup, _ = judge_ledger(entries, {"r1": ("e", True, False), "r2": ("e", False, False)})
    assert (lost, dup) == ([], [])


def test_two_live_receipts_of_one_voter_are_duplicates():
    entries = [receipt("v1", "r1", 1), receipt("v1", "r2", 2)]
    _, dup, _ = judge_ledger(entries, {"r1": ("e", False, False), "r2": ("e", False, False)})
    assert len(dup) == 1


def test_last_receipt_superseded_is_lost_unless_a_later_ballot_was_sent():
    found = {"r1": ("e", True, False)}
    assert len(judge_ledger([attempt("v1", 1), receipt("v1", "r1", 1)], found)[0]) == 1
    assert judge_ledger([receipt("v1", "r1", 1), attempt("v1", 2)], found)[0] == []


def test_published_figures_are_compared_with_the_recount():
    snapshot = {"contests": [{"contest_id": "m", "ballots": 2, "abstentions": 0,
                              "options": [{"option_id": "a", "votes": 2}]}]}
    assert compare_snapshot(snapshot, {"m": (2, 0)}, {("m", "a"): 2}, "e") == []
    assert len(compare_snapshot(snapshot, {"m": (3, 0)}, {("m", "a"): 3}, "e")) == 2


def test_ledger_lines_survive_a_round_trip_and_a_torn_last_line(tmp_path):
    writer = LedgerWriter(tmp_path)
    writer.receipt("e", "v1", "k", "r1", 1)
    writer.close()
    with open(writer.path, "a") as f:
        f.write('{"kind": "rece')
    assert [e.receipt_id for e in read_ledger(tmp_path)] == ["r1"]


def test_audit_line_format():
    assert line({"lost": 0, "duplicates": 0, "mismatches": 0}) == "lost=0 duplicates=0 mismatches=0"


def test_slo_breaches_name_the_endpoint_and_the_threshold():
    fast = Endpoint("GET", "/results", 1000, 0, 2, 20, 40, 100)
    slow = Endpoint("POST", "/ballots", 1000, 0, 50, 600, 1200, 10)
    limits = Thresholds()
    assert breaches([fast], 1000, 0, False, limits) == []
    found = breaches([fast, slow], 2000, 0, False, limits)
    assert len(found) == 2 and all("/ballots" in f for f in found)
    assert any("failure ratio" in f for f in breaches([fast], 1000, 1, False, limits))
    assert any("CPU" in f for f in breaches([fast], 1000, 0, True, limits))
    assert breaches([Endpoint("SSE", "event", 5, 0, 0, 5000, 9000, 1)], 5, 0, False, limits) == []
