"""Locust in distributed mode: one master (headless, it ends the run by itself after
--run-time) and N worker processes, all bounded in time. The scenario options go to every
process on the command line (the master also forwards them with each spawn message)."""
from __future__ import annotations

import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .stack import ROOT, free_port

LOCUSTFILE = ROOT / "loadtests" / "locustfile.py"


@dataclass
class LoadPlan:
    users: int
    spawn_rate: float
    run_seconds: int  # ramp + hold
    workers: int
    scenario: dict[str, object]


def _scenario_args(scenario: dict[str, object]) -> list[str]:
    args = []
    for key, value in scenario.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    return args


def raise_open_files_limit() -> None:
    """In a child, before exec: soft open-files limit up to the hard one. Every Locust
    connection is a file descriptor; only these processes change, never the machine."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start(plan: LoadPlan, run_dir: Path, env: dict[str, str]) -> tuple[subprocess.Popen, list[subprocess.Popen]]:
    port = free_port()
    locust = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    # Every URL is absolute (three services); --host only satisfies FastHttpUser.
    common = _scenario_args(plan.scenario) + ["--loglevel", "WARNING", "--host", str(plan.scenario["results_url"])]
    master = subprocess.Popen(
        [*locust, "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
         "--headless", "--users", str(plan.users), "--spawn-rate", str(plan.spawn_rate),
         "--stop-after", str(plan.run_seconds), "--stop-timeout", "5",
         "--expect-workers", str(plan.workers), "--expect-workers-max-wait", "60",
         "--csv", str(run_dir / "locust"), "--html", str(run_dir / "locust.html"),
         "--only-summary", "--logfile", str(run_dir / "locust-master.log"), *common],
        cwd=ROOT, env=env, stdout=open(run_dir / "locust-master.out", "ab"), stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, preexec_fn=raise_open_files_limit,
    )
    workers = [
        subprocess.Popen(
            [*locust, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port),
             "--logfile", str(run_dir / f"locust-worker-{i}.log"), *common],
            cwd=ROOT, env=env, stdout=open(run_dir / f"locust-worker-{i}.out", "ab"), stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, preexec_fn=raise_open_files_limit,
        )
        for i in range(plan.workers)
    ]
    return master, workers


def wait(master: subprocess.Popen, workers: list[subprocess.Popen], timeout: float) -> int:
    """The master's exit code (its SLO verdict); every process is gone when this returns."""
    try:
        code = master.wait(timeout)
    except subprocess.TimeoutExpired:
        master.kill()
        code = master.wait()
    # The master collected every worker's final statistics before quitting; a worker that
    # missed the quit message (it may be sleeping out --stop-timeout) gets SIGTERM, which
    # Locust handles as a clean quit.
    for w in workers:
        try:
            w.wait(5)
        except subprocess.TimeoutExpired:
            w.terminate()
    for w in workers:
        try:
            w.wait(15)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait()
    return code
