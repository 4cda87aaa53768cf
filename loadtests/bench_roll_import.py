"""How fast `ballotline roll import` takes a big roll: 1,000,000 rows by default.

    .venv/bin/python loadtests/bench_roll_import.py [--rows N]

Generates a CSV in a temporary folder, creates a fresh database (on the server named by
DATABASE_URL, else on an embedded Postgres in a temporary folder), creates an election
with 20 precincts and runs the same code as the command, twice: a first import and a
re-import that replaces it. Prints rows/s and writes loadtests/results/roll_import.json.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg

from services.cli.election_phases import create_election
from services.cli.roll_csv import open_roll_csv
from services.cli.roll_import import import_roll
from services.cli.roll_rows import encode_public_key
from services.common.election import Contest, ElectionDefinition, Option, Precinct
from services.common.elections_db import Change
from services.common.migrate import migrate

# Run as a script: loadtests/ is not installed, so the repository root goes on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtests.bench.output import machine, now_iso, write_results
from loadtests.bench.stack import fresh_database


def write_roll(path: Path, rows: int, precincts: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("voter_id,precinct_id,phone,public_key\n")
        for n in range(1, rows + 1):
            key = encode_public_key(os.urandom(32)) if n % 10 == 0 else ""
            f.write(f"V{n:09d},p{n % precincts:02d},+1555{n:07d},{key}\n")


def election(precincts: int) -> ElectionDefinition:
    opens = datetime.now(timezone.utc) + timedelta(days=1)
    return ElectionDefinition(
        election_id="bench", title="Roll import benchmark", opens_at=opens, closes_at=opens + timedelta(hours=14),
        contests=[Contest("c", "Contest", [Option("a", "A"), Option("b", "B")])],
        precincts=[Precinct(f"p{i:02d}", f"Precinct {i}") for i in range(precincts)],
    )


BENCH = Change("bench_roll_import")


async def run(url: str, csv_path: Path, precincts: int) -> list[dict]:
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        await create_election(conn, election(precincts), BENCH)
        runs = []
        for label in ("first import", "re-import (replaces)"):
            started = time.perf_counter()
            with open_roll_csv(csv_path) as rows:
                count = await import_roll(conn, "bench", rows, source=csv_path.name, change=BENCH)
            seconds = time.perf_counter() - started
            runs.append({"run": label, "rows": count, "seconds": round(seconds, 2), "rows_per_s": round(count / seconds)})
            print(f"{label}: {count:,} rows in {seconds:.2f} s = {count / seconds:,.0f} rows/s", flush=True)
        return runs
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--precincts", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ballotline-bench-") as tmp:
        csv_path = Path(tmp) / "roll.csv"
        started = time.perf_counter()
        write_roll(csv_path, args.rows, args.precincts)
        print(f"generated {args.rows:,} rows ({csv_path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
        with fresh_database(Path(tmp), prefix="ballotline_bench_") as stack:
            runs = asyncio.run(run(stack.url, csv_path, args.precincts))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "measured_at": now_iso(), "rows": args.rows, "precincts": args.precincts, "runs": runs,
        "peak_rss_mb": round(peak_mb), "postgres": stack.postgres, "machine": machine(),
    }
    path = write_results("roll_import.json", result)
    print(f"peak memory of this process: {peak_mb:.0f} MB; results in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
