"""Run as a script (importing Locust gevent-patches the whole process, so never import
it from the test process): deals users with Locust's dispatcher or ours and prints JSON.

    python dispatch_probe.py locust|even WORKERS USERS [REMOVE_INDEX]
    python dispatch_probe.py liveness
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import locust.runners  # noqa: E402 - patches gevent first
from locust import User  # noqa: E402
from locust.dispatch import UsersDispatcher  # noqa: E402
from locust.runners import MasterRunner, WorkerNode  # noqa: E402

from loadtests.scenario import distribution  # noqa: E402


class Voter(User):
    weight = 1


class Watcher(User):
    weight = 9


def dealt(kind: str, workers: int, users: int, remove: int | None) -> dict:
    nodes = [WorkerNode(f"host_{i:02d}") for i in range(workers)]
    cls = distribution.EvenMixDispatcher if kind == "even" else UsersDispatcher
    dispatcher = cls(worker_nodes=nodes, user_classes=[Voter, Watcher])
    dispatcher.new_dispatch(target_user_count=users, spawn_rate=users)
    *_, last = dispatcher
    if remove is not None:
        dispatcher.remove_worker(nodes[remove])
        last = dispatcher._users_on_workers
    return last


if sys.argv[1] == "liveness":
    before = locust.runners.HEARTBEAT_LIVENESS
    distribution.tolerate_stalls()
    print(json.dumps({"before": before, "after": locust.runners.HEARTBEAT_LIVENESS,
                      "interval": locust.runners.HEARTBEAT_INTERVAL,
                      "stall_seconds": distribution.STALL_SECONDS,
                      "read_by_master": "HEARTBEAT_LIVENESS" in MasterRunner.handle_message.__code__.co_names}))
else:
    remove = int(sys.argv[4]) if len(sys.argv) > 4 else None
    print(json.dumps(dealt(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), remove)))
