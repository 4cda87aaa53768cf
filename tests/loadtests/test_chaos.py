"""The short chaos run (`python -m loadtests.chaos --short`): kill -9 of vote, an immediate
Postgres restart and a Redis FLUSHALL under load, each audited: nothing acknowledged
lost, nothing doubled, no 500, the published results equal to a recount."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from loadtests.chaos.__main__ import passed, recovery_seconds
from loadtests.chaos.voters import Observations


@pytest.mark.slow
def test_the_short_chaos_run_loses_doubles_and_breaks_nothing(tmp_path):
    done = subprocess.run([sys.executable, "-m", "loadtests.chaos", "--short", "--results-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    [run] = tmp_path.iterdir()
    rows = json.loads((run / "chaos.json").read_text())
    assert [r["experiment"] for r in rows] == ["kill -9 vote", "Postgres restart -m immediate", "Redis FLUSHALL"]
    for row in rows:
        assert row["acknowledged"] > 0 and row["lost"] == row["doubled"] == row["mismatches"] == 0, row
        assert row["five_hundreds"] == 0, row["answers"]
    assert "| kill -9 vote |" in (run / "chaos.md").read_text()


def test_recovery_is_measured_from_the_fault_to_the_first_ballot_after_the_last_failure():
    seen = Observations(failures=[10.5, 11.0, 12.5], acknowledged=[9.0, 12.0, 13.25, 14.0])
    assert recovery_seconds(10.0, seen) == 3.25
    assert recovery_seconds(20.0, seen) == 0.0  # nothing failed after the fault
    assert recovery_seconds(10.0, Observations(failures=[11.0], acknowledged=[9.0])) is None


def test_an_experiment_fails_on_any_loss_doubling_mismatch_500_fault_error_or_silence():
    ok = {"lost": 0, "doubled": 0, "mismatches": 0, "five_hundreds": 0, "fault_error": None, "acknowledged": 5}
    assert passed(ok)
    for key, bad in (("lost", 1), ("doubled", 1), ("mismatches", 1), ("five_hundreds", 1),
                     ("fault_error", "boom"), ("acknowledged", 0)):
        assert not passed({**ok, key: bad}), key
