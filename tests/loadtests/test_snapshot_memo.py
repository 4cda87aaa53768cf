"""Thousands of watchers in one Locust process receive the same bytes for each results
version, so the parse and the invariant check run once per distinct body. The memo must
not weaken the checks: a bad snapshot is still reported to every watcher that sees it,
and each watcher still catches its own version going backwards."""
from __future__ import annotations

import json

import pytest

from loadtests.scenario import flows, state
from loadtests.scenario.options import Scenario

from .test_invariants import RULES, snapshot


@pytest.fixture()
def reader_state(tmp_path, monkeypatch):
    shared = state.Shared(Scenario.from_parsed({"run_dir": str(tmp_path)}))
    shared.rules["e"] = dict(RULES)
    monkeypatch.setattr(state, "SHARED", shared)
    flows.SNAPSHOT_MEMO.clear()
    yield shared
    flows.SNAPSHOT_MEMO.clear()


def body(**changes) -> bytes:
    return json.dumps(snapshot(**changes)).encode()


def test_same_body_is_parsed_once_and_checked_for_every_watcher(reader_state):
    a, b = flows.ResultsReader(), flows.ResultsReader()
    raw = body()
    assert a.check_raw("u", raw, "e") == [] and b.check_raw("u", raw, "e") == []
    assert len(flows.SNAPSHOT_MEMO) == 1


def test_a_bad_snapshot_fails_every_watcher_that_sees_it(reader_state, tmp_path):
    broken = snapshot()
    broken["contests"][0]["ballots"] = 11  # votes + abstentions != ballots
    raw = json.dumps(broken).encode()
    for reader in (flows.ResultsReader(), flows.ResultsReader()):
        assert any("!= ballots" in p for p in reader.check_raw("u", raw, "e"))
    assert list(tmp_path.glob("violations-*.jsonl"))


def test_each_watcher_still_sees_its_own_version_go_backwards(reader_state):
    newer, older = body(version=8, digest="sha256:" + "cd" * 32), body(version=7)
    a, b = flows.ResultsReader(), flows.ResultsReader()
    assert a.check_raw("u", newer, "e") == []
    assert b.check_raw("u", older, "e") == []  # b never saw 8: not a violation for b
    assert any("backwards" in p for p in a.check_raw("u", older, "e"))


def test_unparsable_body_is_a_violation(reader_state):
    assert flows.ResultsReader().check_raw("u", b"<html>", "e") == ["not a JSON object"]
