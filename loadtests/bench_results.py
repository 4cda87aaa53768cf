"""Results read path: GET and 304 revalidations per second against the real results
service vs a bare aiohttp app returning the same bytes with the same number of
processes; then 10,000 SSE subscribers on one process with a snapshot a second.

    .venv/bin/python loadtests/bench_results.py [--workers 2] [--duration 10] [--rounds 3] [--subscribers 10000]

Starts an embedded Postgres and Redis in a temporary folder, creates an election with
1,000 tallied ballots, runs `ballotline serve results --workers N` and the bare app, and
drives both with `wrk` (apt-get install wrk; without it a slower asyncio client is used,
which caps both sides alike). Writes loadtests/results/bench_results.json and prints the
ratios (goal: GET ≥ 0.8× bare, 304 ≥ 0.9× bare). Everything it starts ends with it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Run as a script: loadtests/ is not installed, so the repository root goes on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtests.bench import results_run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="alternating real/bare runs per measure")
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--sse-seconds", type=float, default=45.0)
    parser.add_argument("--log-level", default="WARNING", help="LOG_LEVEL of the service (INFO logs every request)")
    return results_run.main(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
