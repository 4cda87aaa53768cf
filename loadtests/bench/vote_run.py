"""One vote benchmark run: a fresh database with the election, the fake JWKS, the five
phases in order, the verdict, and the results JSON."""
from __future__ import annotations

import asyncio
import signal
import tempfile
from pathlib import Path

import aiohttp
import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.elections_db import insert_election
from services.common.migrate import migrate

from .cpu import Postgres
from .output import machine, now_iso, write_results
from .stack import fresh_database, tally_env
from .vote_ballot import SECRET, definition
from .vote_direct import direct_phase
from .vote_http import http_phase
from .vote_report import verdict
from .vote_tokens import jwks_server
from .wrk import WRK

CPU_NOTE = ("cpu_us_per_ballot: utime+stime from /proc over the measured interval / ballots; vote_workers is "
            "the service's CPU per ballot, machine_busy includes everything running on the machine")


async def run(url: str, redis_url: str, args, tmp: Path) -> dict:
    conn = await asyncpg.connect(url)
    await migrate(conn)
    async with conn.transaction():
        await insert_election(conn, definition())
    await conn.close()
    pg = Postgres()
    await pg.locate(url)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    ctx = {"tmp": tmp, "url": url, "pg": pg, "log": tmp / "vote.log"}
    if WRK is None or args.no_wrk:
        print("wrk not found (or --no-wrk): closed-loop HTTP phases use the aiohttp client in this process, "
              "which shares the cores with the server and caps what can be measured", flush=True)
    phases = {}
    connector = aiohttp.TCPConnector(limit=0)
    async with (jwks_server() as jwks_url,
                aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session):
        env = {"DATABASE_URL": url, "REDIS_URL": redis_url, "VOTE_JWKS_URL": jwks_url,
               "VOTE_SECRET_KEY": SECRET, "VOTE_SIGNING_KEY": pem, "LOG_LEVEL": "WARNING",
               "BALLOTLINE_ENV": "development", "METRICS_PORT": "0", **tally_env()}
        phases["http"] = await http_phase("http", env, args, ctx, session, n=args.ballots)
        phases["http_per_request"] = await http_phase(
            "http_per_request", env | {"VOTE_BATCH_MAX": "1", "VOTE_BATCH_FLUSHERS": "8", "VOTE_BATCH_WAIT_MS": "0"},
            args, ctx, session, n=args.per_request_ballots)
        phases["direct_per_ballot"] = await direct_phase("direct_per_ballot", ctx, args.per_request_ballots, 1, 16)
        phases["direct_batched"] = await direct_phase("direct_batched", ctx, args.ballots, 200, 2)
        rate = phases["http"]["ballots_per_s"] / 2
        phases["http_half_rate"] = await http_phase(
            "http_half_rate", env, args, ctx, session, n=int(rate * args.half_seconds), rate=rate)
    return verdict(phases)


def main(args) -> int:
    def interrupted(signum, frame):  # a SIGTERM (e.g. from `timeout`) still stops what was started
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        import uvloop

        uvloop.install()  # the benchmark's own clients cost less CPU on uvloop
    except ImportError:
        pass
    with tempfile.TemporaryDirectory(prefix="ballotline-bench-vote-") as tmp:
        with fresh_database(Path(tmp), prefix="ballotline_bench_vote_", redis=True) as stack:
            result = asyncio.run(run(stack.url, stack.redis_url, args, Path(tmp)))
    result |= {"measured_at": now_iso(), "settings": vars(args) | {"wrk": WRK}, "postgres": stack.postgres,
               "machine": machine(), "cpu_note": CPU_NOTE}
    print(f"results in {write_results('bench_vote.json', result)}")
    return 0
