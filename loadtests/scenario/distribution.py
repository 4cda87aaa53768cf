"""Two corrections to how the Locust master spreads users over its workers (issue 12).

1. Stalls are not deaths. The master takes a worker for lost after HEARTBEAT_LIVENESS
   (3) heartbeat intervals of 1 s without a heartbeat. On two shared cores a worker (or
   the whole machine) stalls for longer than that: measured in a short run, all four
   workers were marked missing together at the end of the ramp and the master stopped
   the test ("the last worker went missing"). When only some go missing, the master
   hands their users to the others while the missing ones keep running theirs, and
   when a worker comes back the master redistributes everything over whichever
   workers are not missing at that moment: users pile up on one worker (the 50,000-user
   run: one of 8 workers at its 20,000 open-files limit, the others idle) and the
   master's user count is neither the target nor the truth. Here every worker runs on
   this host and a stalled worker catches up, so the master waits STALL_SECONDS
   before it calls a worker missing. Locust has no option for this; the constant is
   read at each heartbeat, so setting it on the master is enough
   (tests/loadtests/test_distribution.py fails if that stops being true).

2. Each worker gets the mix. Locust deals users round-robin (user i to worker i mod n)
   from a class sequence with the weights' period (1 Voter in every 10 at 1:9): with 8
   workers only the even-numbered ones ever got a Voter, so half the workers did all the
   logins, signatures and ballots (more CPU, 3 connections per user) and the other half
   only watched. EvenMixDispatcher deals each class n times in a row, so every worker
   sees the whole weighted sequence.
"""
from __future__ import annotations

from collections.abc import Iterator

import locust.runners
from locust.dispatch import UsersDispatcher

STALL_SECONDS = 60


def tolerate_stalls(seconds: int = STALL_SECONDS) -> None:
    """On the master: heartbeats missed for `seconds` (not 3) before a worker is missing."""
    locust.runners.HEARTBEAT_LIVENESS = int(seconds / locust.runners.HEARTBEAT_INTERVAL)


class EvenMixDispatcher(UsersDispatcher):
    """Locust's dispatcher with each user class dealt once to every worker in turn.

    The user and worker generators advance together (one worker per user, both
    restarted on every rebalance), so a block of n identical classes lands on n
    different workers. Only for weighted classes: our classes have no fixed_count."""

    def _user_gen(self) -> Iterator[str | None]:
        weighted = super()._user_gen()
        while True:
            name = next(weighted)
            for _ in range(max(1, len(self._worker_nodes))):
                yield name
