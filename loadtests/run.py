"""`make loadtest` / `make loadtest-smoke`: one command that seeds, starts, loads, audits
and reports, and stops everything it started by itself.

    python -m loadtests.run --profile full                      # 50,000 users, 10 min hold
    python -m loadtests.run --profile full --users 20000 --hold 180
    python -m loadtests.run --profile smoke                     # ~1 minute, in make test
    python -m loadtests.run --profile full --set watcher_think_min=20 --set watcher_think_max=40

Results: loadtests/results/<time>-<profile>/ (report.md, summary.json, audit.json, Locust
CSV and HTML, ledgers, service and Locust logs). Exit code 0 only when the SLOs are met
and the audit prints lost=0 duplicates=0 mismatches=0.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from . import audit
from .runner import loadgen, profiles, report, seed
from .runner.monitor import Monitor
from .runner.stack import ROOT, Stack

MAX_SPAWN_RATE = 500  # faster ramps pinned both cores and workers missed heartbeats
USERS_PER_LOCUST_WORKER = 6_250  # ≤ ~10,000 sockets per worker, half the 20,000 open-files limit


def say(message: str) -> None:
    print(f"[loadtest] {message}", flush=True)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m loadtests.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--profile", default="full", choices=["smoke", "full"])
    p.add_argument("--users", type=int)
    p.add_argument("--spawn-rate", type=float)
    p.add_argument("--hold", type=int, dest="hold_seconds", help="seconds to hold the users after the ramp")
    p.add_argument("--voters", type=int, help="voters on the main election's roll")
    p.add_argument("--locust-workers", type=int)
    p.add_argument("--service-workers", help="e.g. auth=1,vote=1,results=4")
    p.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE",
                   help="a scenario option (loadtests/scenario/options.py), e.g. watcher_think_min=20")
    p.add_argument("--results-dir", type=Path, default=ROOT / "loadtests" / "results")
    p.add_argument("--keep-data", action="store_true", help="keep the scratch Postgres/Redis folder")
    p.add_argument("--service-log-level", default="WARNING")
    return p.parse_args(argv)


def plan_from(args: argparse.Namespace) -> profiles.Profile:
    profile = profiles.customised(
        profiles.named(args.profile), users=args.users, spawn_rate=args.spawn_rate, hold_seconds=args.hold_seconds,
        voters=args.voters, locust_workers=args.locust_workers,
    )
    if args.service_workers:
        workers = dict(profile.service_workers)
        workers.update({k: int(v) for k, v in (item.split("=") for item in args.service_workers.split(","))})
        profile = profiles.customised(profile, service_workers=workers)
    scenario = dict(profile.scenario)
    for item in args.set:
        key, _, value = item.partition("=")
        scenario[key.replace("-", "_")] = value
    if args.locust_workers is None and profile.name == "full":
        # Each Locust user holds 1-3 connections (watchers 1, voters auth+vote+results); the
        # 50,000-user run put two of four workers at the 20,000 open-files limit (EMFILE).
        needed = -(-profile.users // USERS_PER_LOCUST_WORKER)
        profile = profiles.customised(profile, locust_workers=max(profile.locust_workers, needed))
    if profile.spawn_rate > MAX_SPAWN_RATE:
        raise SystemExit(f"--spawn-rate {profile.spawn_rate} is above {MAX_SPAWN_RATE}/s (see loadtests/README.md)")
    return profiles.customised(profile, scenario=scenario)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    profile = plan_from(args)
    run_id = datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = args.results_dir / f"{run_id}-{profile.name}"
    run_dir.mkdir(parents=True, exist_ok=True)
    say(f"run {run_id}: {profile.users:,} users, ramp {profile.ramp_seconds} s, hold {profile.hold_seconds} s, "
        f"roll {profile.voters:,}; results in {run_dir}")
    stack = Stack(run_dir, keep_data=args.keep_data, log_level=args.service_log_level)
    monitor = Monitor()
    elections = [(f"load-{run_id[-6:]}", False, profile.voters), (f"load-{run_id[-6:]}-rv", True, profile.revote_voters)]
    try:
        stack.start_databases()
        seed.seed(stack, stack.data, elections, say)
        stack.start_services(profile.service_workers)
        say(f"services ready: {', '.join(f'{n} {stack.url(n)} x{profile.service_workers[n]}' for n in stack.ports)}")
        for name, process in stack.processes.items():
            monitor.watch(f"service {name}", process.pid)
        monitor.watch("postgres", stack.postgres_pid())
        monitor.watch("redis", stack.redis.process.pid if stack.redis and stack.redis.process else None)
        monitor.watch("runner", os.getpid(), children=False)  # the monitor's own sampling cost
        scenario = {
            "auth_url": stack.url("auth"), "vote_url": stack.url("vote"), "results_url": stack.url("results"),
            "election_id": elections[0][0], "revote_election_id": elections[1][0], "voters": profile.voters,
            "revote_voters": profile.revote_voters, "load_workers": profile.locust_workers, "run_dir": str(run_dir),
            **profile.scenario,
        }
        run_seconds = profile.ramp_seconds + profile.hold_seconds
        plan = loadgen.LoadPlan(profile.users, profile.spawn_rate, run_seconds, profile.locust_workers, scenario)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        monitor.start()
        monitor.measure_baseline(5.0)  # the services' idle CPU, to separate it from CPU per request
        master, workers = loadgen.start(plan, run_dir, env)
        monitor.watch("locust", master.pid)
        for w in workers:
            monitor.watch("locust", w.pid)
        monitor.mark()
        started = time.monotonic()
        locust_exit = loadgen.wait(master, workers, timeout=run_seconds + 180)
        load_seconds = time.monotonic() - started
        monitor.stop()
        say(f"Locust finished after {load_seconds:.0f} s with exit code {locust_exit} (its SLO verdict)")
        result = asyncio.run(audit.audit(run_dir, stack.env["DATABASE_URL"], stack.url("results"),
                                         [e[0] for e in elections], drain_timeout=60))
        (run_dir / "audit.json").write_text(json.dumps(result, indent=2))
        for kind in ("lost", "duplicates", "mismatches"):
            for detail in result["details"][kind][:10]:
                say(f"audit {kind}: {detail}")
        audit_line = audit.line(result)
        say(f"audit: {audit_line}")
        locust_summary_path = run_dir / "locust-summary.json"
        locust_summary = json.loads(locust_summary_path.read_text()) if locust_summary_path.exists() else {}
        meta = {
            "run_id": run_id, "profile": profile.name, "users": profile.users, "spawn_rate": profile.spawn_rate,
            "ramp_seconds": profile.ramp_seconds, "hold_seconds": profile.hold_seconds, "voters": profile.voters,
            "service_workers": profile.service_workers, "locust_workers": profile.locust_workers,
            "sources": scenario.get("sources", 8), "cores": os.cpu_count(), "load_seconds": load_seconds,
            "locust_exit": locust_exit, "audit_line": audit_line, "scenario": scenario,
        }
        summary = report.build(run_dir, meta, locust_summary, result, monitor)
        report.write(run_dir, summary)
        say(f"report: {run_dir / 'report.md'}")
        for line in locust_summary.get("breaches", []):
            say(f"SLO missed: {line}")
        spread_problems = summary["workers"]["problems"]
        for line in spread_problems:
            say(f"LOAD GENERATOR NOT TRUSTED: {line}")
        held = summary["meta"]["users_held"]
        say(f"users running during the hold: min {held['min']:,}, max {held['max']:,} (target {profile.users:,}); "
            f"spread over {profile.locust_workers} workers: {'FAILED' if spread_problems else 'passed'}")
        clean = result["lost"] == result["duplicates"] == result["mismatches"] == 0
        if not result["ledger"]["receipts"]:
            say("no ballot was acknowledged: the run proves nothing")
            clean = False
        return 0 if locust_exit == 0 and clean and not spread_problems else 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
