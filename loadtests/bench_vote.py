"""Vote throughput and CPU cost: HTTP through the real service against the direct-to-Postgres
ceilings.

    .venv/bin/python loadtests/bench_vote.py [--ballots 20000] [--clients 64] [--workers 2]

One run, one fresh database (on the server named by DATABASE_URL, else an embedded
Postgres in a temporary folder; Redis likewise from REDIS_URL or embedded), a fake auth
JWKS server in this process, tokens for every voter minted here. It measures, each with
new voters and at the same durability (synchronous_commit = on):

1. HTTP, group commit: `ballotline serve vote --workers W` (default settings), C
   keep-alive connections as fast as they go: ballots/s, p50/p99.
2. HTTP, one transaction per request: the same service with VOTE_BATCH_MAX=1.
3. Direct asyncpg, one transaction per ballot (16 concurrent), the service's statements.
4. Direct asyncpg, batched statements (200 ballots per transaction): the ceiling.
5. HTTP, group commit, open loop at half of (1)'s rate: p50/p99 measured from each
   request's scheduled send time (no coordinated omission).

The closed-loop HTTP phases are driven by wrk (/usr/bin/wrk, closed loop) with a Lua
script that replays pre-generated requests (one token per voter, a unique
Idempotency-Key, the body) from a file, so the load generator costs a few µs a request.
Without wrk they fall back to an aiohttp client (which costs more CPU than the server
does per request on a small machine: the output says so). Phase 5 uses a lean asyncio
client (raw HTTP/1.1 over keep-alive sockets, pre-serialised requests) because wrk has
no open-loop mode.

Every phase also reports CPU per ballot, from /proc: the vote worker processes
(utime+stime over the measured interval ÷ ballots), the Postgres server processes, the
load generator, and the whole machine (busy time from /proc/stat; includes anything else
running). CPU per ballot is far less sensitive to a noisy machine than ballots/s.

Prints the figures and ratios and writes loadtests/results/bench_vote.json. Client and
server share the machine's cores: compare figures within one run.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Run as a script: loadtests/ is not installed, so the repository root goes on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtests.bench import vote_run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=20000, help="ballots in the group-commit and batched phases")
    parser.add_argument("--per-request-ballots", type=int, default=4000,
                        help="ballots in the one-transaction-per-ballot phases (HTTP and direct)")
    parser.add_argument("--clients", type=int, default=64, help="keep-alive connections of the closed-loop phases")
    parser.add_argument("--workers", type=int, default=2, help="vote service processes")
    parser.add_argument("--warmup", type=int, default=1000, help="warm-up requests before each HTTP phase")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (1 is plenty on loopback)")
    parser.add_argument("--max-seconds", type=float, default=60, help="cap on one wrk run")
    parser.add_argument("--half-seconds", type=float, default=10.0, help="length of the half-rate phase")
    parser.add_argument("--open-connections", type=int, default=128, help="connections of the open-loop client")
    parser.add_argument("--no-wrk", action="store_true", help="use the aiohttp client even if wrk is installed")
    return vote_run.main(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
