"""How the Locust master deals users to its workers (loadtests/scenario/distribution.py):
every worker gets the weighted mix (1 Voter : 9 Watchers), and a stalled worker is not
taken for dead. Locust runs in a child process (tests/loadtests/dispatch_probe.py)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("locust")
PROBE = Path(__file__).with_name("dispatch_probe.py")


def probe(*args: object) -> dict:
    done = subprocess.run([sys.executable, str(PROBE), *map(str, args)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_locusts_own_dispatcher_gives_every_voter_to_half_of_eight_workers():
    # Why EvenMixDispatcher exists: 1 Voter in every 10 users, dealt round-robin to 8 workers.
    voters = [users["Voter"] for users in probe("locust", 8, 5_000).values()]
    assert voters == [125, 0, 125, 0, 125, 0, 125, 0]


@pytest.mark.parametrize("workers", [2, 3, 8])
def test_every_worker_gets_the_weighted_mix_and_its_share_of_users(workers):
    spread = probe("even", workers, 5_000)
    assert sum(sum(u.values()) for u in spread.values()) == 5_000
    for users in spread.values():
        assert abs(sum(users.values()) - 5_000 / workers) <= 1
        assert abs(users["Voter"] - 500 / workers) <= 1


def test_a_rebalance_keeps_the_mix_on_every_remaining_worker():
    spread = probe("even", 8, 5_000, 1)
    assert len(spread) == 7
    for users in spread.values():
        assert abs(users["Voter"] - 500 / 7) <= 1 and abs(sum(users.values()) - 5_000 / 7) <= 1


def test_the_master_waits_a_minute_of_missed_heartbeats_before_a_worker_is_missing():
    liveness = probe("liveness")
    assert liveness["before"] == 3
    assert liveness["after"] * liveness["interval"] == liveness["stall_seconds"] == 60
    # The master reads the module constant at each heartbeat and each new worker; if a
    # release binds it elsewhere, the patch would silently do nothing: fail here instead.
    assert liveness["read_by_master"]
