"""What each Locust worker really runs, as the workers themselves report it.

Locust's own user count on the master is the sum of what it *believes* each worker runs:
a worker it marked missing counts as 0 although its users keep running, and one it
dropped is no longer counted at all. So every worker adds its pid and its index to the
statistics it ships every few seconds (`report_to_master`), and the master records each
report with its arrival time, whatever state Locust gives that worker. The master also
notes when the ramp ended, when it stopped the users, and every worker it marked
missing. On quitting it writes all of it to `locust-workers.json`; the runner's report
turns that into users held and the per-worker table (loadtests/runner/spread.py).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import gevent
from locust.runners import STATE_MISSING, MasterRunner

REPORT_KEY = "ballotline_worker"


class Recorder:
    def __init__(self) -> None:
        self.samples: list[dict] = []  # {"t", "pid", "index", "users", "classes"}
        self.spawned_at: float | None = None
        self.stopped_at: float | None = None
        self.missing: list[dict] = []  # {"t", "index"}: the master took a worker for lost

    def report(self, data: dict) -> None:
        who = data.get(REPORT_KEY)
        if who:
            classes = dict(data.get("user_classes_count", {}))
            # By class, as Locust's master counts; `user_count` also counts users being stopped.
            users = sum(classes.values()) if classes else int(data.get("user_count", 0))
            self.samples.append({"t": time.time(), "pid": who["pid"], "index": who["index"], "users": users,
                                 "classes": classes})

    def as_dict(self) -> dict:
        return {"spawned_at": self.spawned_at, "stopped_at": self.stopped_at, "missing": self.missing,
                "samples": self.samples}

    def write(self, run_dir: Path) -> None:
        (run_dir / "locust-workers.json").write_text(json.dumps(self.as_dict()))


RECORDER = Recorder()


def register(events) -> None:
    @events.report_to_master.add_listener
    def _tag(client_id, data):
        from . import state  # the worker's index is known once the master acknowledged it

        index = state.SHARED.worker_index if state.SHARED else -1
        data[REPORT_KEY] = {"pid": os.getpid(), "index": index}

    @events.worker_report.add_listener
    def _record(client_id, data):
        RECORDER.report(data)

    @events.spawning_complete.add_listener
    def _spawned(user_count, **_kw):
        if RECORDER.spawned_at is None:
            RECORDER.spawned_at = time.time()


def watch_missing(runner: MasterRunner) -> None:
    """Note each worker the master marks missing (Locust logs it only at INFO)."""
    def _loop() -> None:
        flagged: set[str] = set()
        while True:
            gevent.sleep(1.0)
            for client in list(runner.clients.values()):
                if client.state == STATE_MISSING and client.id not in flagged:
                    flagged.add(client.id)
                    RECORDER.missing.append({"t": time.time(), "index": runner.get_worker_index(client.id)})
                elif client.state != STATE_MISSING:
                    flagged.discard(client.id)

    gevent.spawn(_loop)
