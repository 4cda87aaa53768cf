"""Locust event hooks: initialise each process, count ballots on the master, and at the
end judge the run against the SLOs (the process exit code) and write the summary JSON
that the runner's report is built from."""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import gevent
from locust import events
from locust.runners import MasterRunner, WorkerRunner

from loadtests.slo import Endpoint, Thresholds, breaches

from . import counters, distribution, netpatch, state, workers
from .options import Scenario, add_arguments

log = logging.getLogger("ballotline.load")


def register(voter_cls, watcher_cls) -> None:
    counters.register(events)
    workers.register(events)

    @events.init_command_line_parser.add_listener
    def _arguments(parser):
        add_arguments(parser)

    @events.init.add_listener
    def _init(environment, **_kw):
        scenario = Scenario.from_parsed(environment.parsed_options)
        _configure(environment, scenario, voter_cls, watcher_cls)
        netpatch.apply(netpatch.loopback_sources(scenario.sources))
        if isinstance(environment.runner, MasterRunner):
            environment.dispatcher_class = distribution.EvenMixDispatcher
            distribution.tolerate_stalls()
            workers.watch_missing(environment.runner)

    @events.test_start.add_listener
    def _start(environment, **_kw):
        # Workers get the master's options with the spawn message: re-read them.
        scenario = Scenario.from_parsed(environment.parsed_options)
        _configure(environment, scenario, voter_cls, watcher_cls)
        environment.ballotline_started = time.time()
        if scenario.stop_after > 0 and not isinstance(environment.runner, WorkerRunner):
            gevent.spawn_later(scenario.stop_after, _finish, environment)

    @events.quitting.add_listener
    def _quitting(environment, **_kw):
        if isinstance(environment.runner, WorkerRunner):
            if state.SHARED and state.SHARED.ledger:
                state.SHARED.ledger.close()
            return
        summary = summarise(environment)
        path = Path(state.shared().scenario.run_dir) / "locust-summary.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(environment.runner, MasterRunner):
            workers.RECORDER.write(path.parent)
        path.write_text(json.dumps(summary, indent=2))
        for line in summary["breaches"]:
            log.error("SLO missed: %s", line)
        environment.process_exit_code = 1 if summary["breaches"] else 0


def _finish(environment) -> None:
    """Instead of --run-time: headless Locust quits at --run-time without waiting for the
    workers' last statistics (everything of the last few seconds would be missing from the
    report while the ledger has it). stop() waits until every worker has stopped its users
    and reported; then quit."""
    workers.RECORDER.stopped_at = time.time()
    environment.runner.stop()
    gevent.sleep(1.0)
    environment.runner.quit()


def _configure(environment, scenario: Scenario, voter_cls, watcher_cls) -> None:
    worker_index = getattr(environment.runner, "worker_index", 0) if isinstance(environment.runner, WorkerRunner) else 0
    if state.SHARED is None:
        state.SHARED = state.Shared(scenario, worker_index)
    else:
        state.SHARED.scenario, state.SHARED.worker_index = scenario, worker_index
    voter_cls.weight, watcher_cls.weight = scenario.voter_weight, scenario.watcher_weight


def summarise(environment) -> dict:
    stats = environment.stats
    scenario = state.shared().scenario
    endpoints = [
        Endpoint(e.method, e.name, e.num_requests, e.num_failures, e.get_response_time_percentile(0.5) or 0,
                 e.get_response_time_percentile(0.95) or 0, e.get_response_time_percentile(0.99) or 0, e.total_rps)
        for e in stats.entries.values()
    ]
    runner = environment.runner
    cpu_warning = bool(runner.cpu_warning_emitted or getattr(runner, "worker_cpu_warning_emitted", False))
    limits = Thresholds(scenario.slo_fail_ratio, scenario.slo_p95_ms, scenario.slo_p99_ms)
    return {
        "pid": os.getpid(),
        "distributed": isinstance(runner, MasterRunner),
        "requests": stats.total.num_requests,
        "failures": stats.total.num_failures,
        "rps": stats.total.total_rps,
        "p50": stats.total.get_response_time_percentile(0.5),
        "p95": stats.total.get_response_time_percentile(0.95),
        "p99": stats.total.get_response_time_percentile(0.99),
        "endpoints": [e.__dict__ for e in endpoints],
        "errors": [{"method": e.method, "name": e.name, "error": e.error, "occurrences": e.occurrences}
                   for e in stats.errors.values()],
        "counters": counters.final_totals(isinstance(runner, MasterRunner)),
        "load_cpu_warning": cpu_warning,
        "thresholds": limits.__dict__,
        "breaches": breaches(endpoints, stats.total.num_requests, stats.total.num_failures, cpu_warning, limits),
    }
