"""`make chaos`: faults under load, and an audit after each one.

    python -m loadtests.chaos            # every experiment (about 5 minutes)
    python -m loadtests.chaos --short    # three of them (about a minute; also in make test)

One stack (embedded Postgres and Redis, auth, vote, results with its tally, on loopback).
Each experiment runs voters for a few seconds, injects one fault (loadtests/chaos/
faults.py), keeps voting, then audits with the load test's own audit (loadtests/audit.py):
every acknowledged receipt counted (lost), no voter counted twice (doubled), the
published results equal a recount (mismatches). It also reports every answer by status
and code, 5xx included, and the seconds from the fault until ballots were acknowledged
again. Exit 0 only when every experiment lost, doubled and mismatched nothing and no
answer was a 500.

Results: loadtests/results/<time>-chaos/ (chaos.md, chaos.json, ledgers, service logs).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from loadtests import audit
from loadtests.ledger import LedgerWriter
from loadtests.runner import seed
from loadtests.runner.stack import ROOT, Stack
from loadtests.scenario.identities import voter_id

from .faults import FAULTS, PRIMARY_LOST, SHORT, Fault
from .standby import Standby
from .voters import Observations, Voters

ELECTION = "chaos"


def say(message: str) -> None:
    print(f"[chaos] {message}", flush=True)


def ballot_for(n: int) -> dict[str, list[str]]:
    """Voter n's ballot: the contests of their precinct (loadtests/runner/seed.py)."""
    district = seed.district_of(seed.precinct_of(n))
    return {"mayor": [f"m{1 + n % 4}"], district: [f"{district[-1]}1"], "council": [f"c{1 + n % 6}"]}


def recovery_seconds(fault_at: float, seen: Observations) -> float | None:
    """From the fault to the first acknowledged ballot after the last failure it caused;
    0 when nothing failed, None when nothing was acknowledged after it."""
    failures = [t for t in seen.failures if t >= fault_at]
    if not failures:
        return 0.0
    after = [t for t in seen.acknowledged if t > failures[-1]]
    return round(after[0] - fault_at, 2) if after else None


def run_experiment(stack: Stack, fault: Fault, run_dir: Path, voters: iter, *, before: float, after: float,
                   concurrency: int) -> dict:
    directory = run_dir / fault.name.replace(" ", "_").replace("/", "")
    ledger = LedgerWriter(directory)
    load = Voters({name: stack.url(name) for name in ("auth", "vote")}, ELECTION, voters, ledger)
    outcome: dict = {}

    def inject() -> None:
        time.sleep(before)
        outcome["fault_at"] = time.monotonic()
        try:
            fault.inject(stack)
        except Exception as exc:  # noqa: BLE001 - reported as the experiment's own failure
            outcome["fault_error"] = repr(exc)
        outcome["fault_done"] = time.monotonic()

    injector = threading.Thread(target=inject, daemon=True)
    started = time.monotonic()
    injector.start()
    seen = asyncio.run(load.run(concurrency, until=started + before + after, patience=40.0))
    injector.join()
    ledger.close()
    for name in ("auth", "vote", "results"):  # a killed service's replacement must be ready
        stack._wait_ready(name)  # noqa: SLF001
    result = asyncio.run(audit.audit(directory, stack.env["DATABASE_URL"], stack.url("results"), [ELECTION], 60.0))
    return {
        "experiment": fault.name,
        "acknowledged": len(seen.acknowledged),
        "lost": result["lost"], "doubled": result["duplicates"], "mismatches": result["mismatches"],
        "answers": dict(sorted(seen.answers.items())),
        "five_hundreds": sum(n for a, n in seen.answers.items() if a.startswith("500")),
        "gave_up": seen.gave_up,
        "fault_seconds": round(outcome.get("fault_done", 0) - outcome.get("fault_at", 0), 1),
        "recovery_seconds": recovery_seconds(outcome.get("fault_at", started), seen),
        "fault_error": outcome.get("fault_error"),
        "details": result["details"],
    }


def passed(row: dict) -> bool:
    return not (row["lost"] or row["doubled"] or row["mismatches"] or row["five_hundreds"] or row["fault_error"]
                or row["acknowledged"] == 0)


def table(rows: list[dict]) -> str:
    lines = ["| experiment | acknowledged | lost | doubled | mismatches | 5xx answers | recovered after | verdict |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        fives = ", ".join(f"{a}: {n}" for a, n in r["answers"].items() if a[:1] == "5") or "none"
        errors = r["answers"].get("connection error", 0)
        recovered = "n/a" if r["recovery_seconds"] is None else f"{r['recovery_seconds']} s"
        lines.append(f"| {r['experiment']} | {r['acknowledged']} | {r['lost']} | {r['doubled']} | {r['mismatches']}"
                     f" | {fives}; connection errors: {errors} | {recovered} | {'pass' if passed(r) else 'FAIL'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m loadtests.chaos", description=__doc__.split("\n\n")[0])
    p.add_argument("--short", action="store_true", help=f"only: {', '.join(SHORT)}")
    p.add_argument("--only", help="comma-separated experiment names")
    p.add_argument("--concurrency", type=int, default=20, help="voters at once")
    p.add_argument("--results-dir", type=Path, default=ROOT / "loadtests" / "results")
    args = p.parse_args(argv)
    chosen = [f for f in FAULTS if (not args.short or f.name in SHORT)
              and (not args.only or f.name in args.only.split(","))]
    run_dir = args.results_dir / f"{datetime.now():%Y%m%d-%H%M%S}-chaos"
    run_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack(run_dir)
    stack.standby = None
    rows: list[dict] = []
    try:
        say(f"{len(chosen)} experiment(s); results in {run_dir}")
        stack.start_databases()
        if any(f.name == PRIMARY_LOST for f in chosen):
            stack.standby = Standby(stack)
            stack.standby.start()
            stack.env["DATABASE_URL"] = stack.standby.url()
            say("a synchronous standby follows the primary; the services connect to both")
        seed.seed(stack, run_dir, [(ELECTION, False, 100_000)], say=say)
        stack.start_services({"auth": 1, "vote": 1, "results": 1},
                             extra_env={"RESULTS_RUN_TALLY": "true", "SHUTDOWN_DRAIN": "1"})
        ids = ((voter_id("v", 7, n), ballot_for(n)) for n in range(1, 100_001))
        for fault in chosen:
            say(f"{fault.name} …")
            rows.append(run_experiment(stack, fault, run_dir, ids, before=3.0, after=9.0, concurrency=args.concurrency))
            r = rows[-1]
            say(f"{fault.name}: acknowledged {r['acknowledged']}, lost {r['lost']}, doubled {r['doubled']},"
                f" mismatches {r['mismatches']}, recovered after {r['recovery_seconds']} s"
                + (f", fault failed: {r['fault_error']}" if r["fault_error"] else ""))
    finally:
        if stack.standby is not None:  # before the stack deletes its folder
            stack.standby.stop()
        stack.stop()
    report = table(rows)
    (run_dir / "chaos.md").write_text(report + "\n")
    (run_dir / "chaos.json").write_text(json.dumps(rows, indent=2))
    print(report, flush=True)
    ok = bool(rows) and all(passed(r) for r in rows)
    say("all experiments passed" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
