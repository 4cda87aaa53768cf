"""One results benchmark run: an embedded Postgres and Redis with the election, the read
path compared with the bare app, the SSE subscribers, the results JSON and the summary."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from pathlib import Path

from .output import now_iso, write_results
from .results_election import prepare
from .results_phases import compare, streams
from .stack import embedded_stack, tally_env


def main(args) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-results-"))
    try:
        with embedded_stack(tmp) as (database_url, redis_url):
            # Development mode as `ballotline up`; no metrics listener (the benchmark reads
            # none, and a random port + 1000 could be taken).
            env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "LOG_LEVEL": args.log_level,
                   "BALLOTLINE_ENV": "development", "METRICS_PORT": "0",
                   **tally_env()}
            env.pop("PROMETHEUS_MULTIPROC_DIR", None)
            asyncio.run(prepare(env, 1000))
            report = {
                "at": now_iso(),
                "cpus": os.cpu_count(),
                "workers": args.workers,
                "connections": args.connections,
                "duration_s": args.duration,
                "rounds": args.rounds,
                "client": "wrk -t1" if shutil.which("wrk") else "aiohttp",
                "log_level": args.log_level,
            }
            report["read_path"] = compare(args, env, tmp)
            print(json.dumps(report["read_path"], indent=1), flush=True)
            if args.subscribers:
                report["stream"] = streams(args, env)
            out = write_results("bench_results.json", report)
            print_summary(report)
            print(f"written to {out}")
            return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def print_summary(report: dict) -> None:
    rp = report["read_path"]
    for name, goal in (("get", 0.8), ("304", 0.9)):
        print(f"{name.upper():4} real {rp[name + '_real']['rps']:.0f}/s  bare {rp[name + '_bare']['rps']:.0f}/s"
              f"  ratio {rp[name + '_ratio']} (goal ≥ {goal});  server CPU/request real {rp[name + '_real_cpu_us']} µs"
              f"  bare {rp[name + '_bare_cpu_us']} µs  ratio {rp[name + '_cpu_ratio']}")
    if "stream" in report:
        s = report["stream"]
        print(f"SSE  {s['with_subscribers']['connected']} subscribers: RSS {s['with_subscribers']['rss_mib']} MiB"
              f" (idle {s['idle']['rss_mib']}), CPU {s['with_subscribers']['cpu_percent_with_1_snapshot_per_s']}%,"
              f" GET {s['with_subscribers']['get']['rps']:.0f}/s = {s['with_subscribers']['get_ratio_vs_idle']}x idle,"
              f" events/subscriber median {s['received']['events_median']} min {s['received']['events_min']}")
