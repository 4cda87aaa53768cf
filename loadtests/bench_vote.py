"""Vote throughput: HTTP through the real service against the direct-to-Postgres ceilings.

    .venv/bin/python loadtests/bench_vote.py [--ballots 6000] [--clients 64] [--workers 2]

One run, one fresh database (on the server named by DATABASE_URL, else an embedded
Postgres in a temporary folder; Redis likewise from REDIS_URL or embedded), a fake auth
JWKS server in this process, tokens for every voter minted here. It measures, each with
new voters and at the same durability (synchronous_commit = on):

1. HTTP, group commit: `ballotline serve vote --workers W` (default settings), C
   keep-alive clients as fast as they can: ballots/s, p50/p99.
2. HTTP, one transaction per request: the same service with VOTE_BATCH_MAX=1.
3. Direct asyncpg, one transaction per ballot (C concurrent), the service's statements.
4. Direct asyncpg, batched statements (200 ballots per transaction): the ceiling.
5. HTTP, group commit, open loop at half of (1)'s rate: p50/p99.

Prints the figures and ratios and writes loadtests/results/bench_vote.json. Client and
server share the machine's cores: compare figures within one run.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
import jwt
import msgspec
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.election import Contest, ElectionDefinition, Option, Precinct
from services.common.elections_db import insert_election, load_elections
from services.common.migrate import migrate
from services.vote.preparing import BallotPreparer
from services.vote.receipts import ReceiptSigner, public_jwk
from services.vote.sealing import Keyring
from services.vote.store import BallotStore
from services.vote.tokens import Claims

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "loadtests" / "results" / "bench_vote.json"
SECRET = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
SELECTIONS = {"mayor": ["alice"], "council": ["green", "red"]}
BODY = msgspec.json.encode({"selections": SELECTIONS})
AUTH_KEY = Ed25519PrivateKey.generate()
AUTH_JWK = public_jwk(AUTH_KEY.public_key())


def definition() -> ElectionDefinition:
    opens = datetime.now(timezone.utc) - timedelta(hours=1)
    return ElectionDefinition(
        election_id="bench", title="Vote benchmark", opens_at=opens, closes_at=opens + timedelta(days=1),
        contests=[
            Contest("mayor", "Mayor", [Option(o, o) for o in ("alice", "bob", "carol")]),
            Contest("council", "Council", [Option(o, o) for o in ("green", "blue", "red", "gold")], max_choices=2),
        ],
        precincts=[Precinct(f"p{i:02d}", f"Precinct {i}") for i in range(20)],
    )


def mint(voter: str) -> str:
    now = int(time.time())
    claims = {"iss": "ballotline-auth", "aud": "ballotline-vote", "sub": voter, "eid": "bench",
              "pct": f"p{hash(voter) % 20:02d}", "amr": ["otp"], "iat": now, "exp": now + 900, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, AUTH_KEY, algorithm="EdDSA", headers={"kid": AUTH_JWK["kid"]})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1) if ordered else 0.0


def summary(label: str, n: int, seconds: float, latencies: list[float] | None = None) -> dict:
    row = {"phase": label, "ballots": n, "seconds": round(seconds, 2), "ballots_per_s": round(n / seconds)}
    if latencies:
        row |= {"p50_ms": pct(latencies, 0.50), "p99_ms": pct(latencies, 0.99)}
    print(json.dumps(row), flush=True)
    return row


class Service:
    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(ROOT / ".venv/bin/ballotline"), "serve", "vote", "--workers", str(workers)],
                env={**os.environ, **env, "PORT": str(self.port)}, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )

    async def ready(self, session: aiohttp.ClientSession) -> None:
        for _ in range(400):
            try:
                async with session.get(self.base + "/readyz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
        raise RuntimeError("the vote service did not become ready; see its log")

    def stop(self) -> None:
        self.process.terminate()  # SIGTERM to the supervisor, which forwards it
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def post(session, base: str, token: str, latencies: list[float]) -> None:
    started = time.perf_counter()
    headers = {"Authorization": "Bearer " + token, "Idempotency-Key": uuid.uuid4().hex, "Content-Type": "application/json"}
    async with session.post(base + "/v1/elections/bench/ballots", data=BODY, headers=headers) as r:
        await r.read()
        if r.status != 201:
            raise RuntimeError(f"unexpected {r.status}: {await r.text()}")
    latencies.append(time.perf_counter() - started)


async def closed_loop(session, base: str, tokens: list[str], clients: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    todo = iter(tokens)

    async def client() -> None:
        for token in todo:
            await post(session, base, token, latencies)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started, latencies


async def open_loop(session, base: str, tokens: list[str], rate: float) -> tuple[float, list[float]]:
    latencies: list[float] = []
    started = time.perf_counter()
    tasks = []
    for i, token in enumerate(tokens):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(post(session, base, token, latencies)))
    await asyncio.gather(*tasks)
    return time.perf_counter() - started, latencies


async def http_phase(label, env, args, tokens, log, session, rate=None) -> dict:
    service = Service(env, args.workers, log)
    try:
        await service.ready(session)
        await closed_loop(session, service.base, [mint(f"warm-{label}-{i}") for i in range(200)], args.clients)
        if rate:
            seconds, latencies = await open_loop(session, service.base, tokens, rate)
        else:
            seconds, latencies = await closed_loop(session, service.base, tokens, args.clients)
        return summary(label, len(tokens), seconds, latencies)
    finally:
        service.stop()


async def direct_phase(label: str, url: str, n: int, batch: int, concurrency: int) -> dict:
    pool = await asyncpg.create_pool(url, min_size=concurrency, max_size=concurrency,
                                     server_settings={"synchronous_commit": "on"})
    keyring = Keyring(SECRET.encode())
    preparer = BallotPreparer(keyring, ReceiptSigner(Ed25519PrivateKey.generate()))
    async with pool.acquire() as conn:
        election = (await load_elections(conn))["bench"]
    items = []
    for i in range(n):
        voter = f"{label}-{i}"
        scope = keyring.idempotency_scope("bench", voter, uuid.uuid4().hex)
        fp = keyring.request_fingerprint("POST", "/v1/elections/bench/ballots", BODY)
        claims = Claims(voter, "bench", f"p{i % 20:02d}")
        items.append(preparer.prepare(election, claims, scope, fp, SELECTIONS, datetime.now(timezone.utc)))
    store = BallotStore(pool, keyring)
    chunks = iter([items[i:i + batch] for i in range(0, n, batch)])

    async def writer() -> None:
        for chunk in chunks:
            await store.write(chunk)

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    await pool.close()
    return summary(label, n, seconds)


async def run(url: str, redis_url: str, args, tmp: Path) -> dict:
    conn = await asyncpg.connect(url)
    await migrate(conn)
    async with conn.transaction():
        await insert_election(conn, definition())
    await conn.close()
    jwks = web.Application()

    async def keys(request: web.Request) -> web.Response:
        return web.json_response({"keys": [AUTH_JWK]})

    jwks.router.add_get("/.well-known/jwks.json", keys)
    runner = web.AppRunner(jwks)
    await runner.setup()
    jwks_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", jwks_port).start()
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    env = {"DATABASE_URL": url, "REDIS_URL": redis_url, "VOTE_JWKS_URL": f"http://127.0.0.1:{jwks_port}/.well-known/jwks.json",
           "VOTE_SECRET_KEY": SECRET, "VOTE_SIGNING_KEY": pem, "LOG_LEVEL": "WARNING", "BALLOTLINE_ENV": "development"}
    n, log = args.ballots, tmp / "vote.log"
    phases = {}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        phases["http"] = await http_phase("http", env, args, [mint(f"h-{i}") for i in range(n)], log, session)
        phases["http_per_request"] = await http_phase(
            "http_per_request", env | {"VOTE_BATCH_MAX": "1", "VOTE_BATCH_FLUSHERS": "8", "VOTE_BATCH_WAIT_MS": "0"},
            args, [mint(f"r-{i}") for i in range(n)], log, session)
        phases["direct_per_ballot"] = await direct_phase("direct_per_ballot", url, n, 1, 16)
        phases["direct_batched"] = await direct_phase("direct_batched", url, n, 200, 2)
        rate = phases["http"]["ballots_per_s"] / 2
        half = [mint(f"o-{i}") for i in range(int(rate * args.half_seconds))]
        phases["http_half_rate"] = await http_phase("http_half_rate", env, args, half, log, session, rate=rate)
    await runner.cleanup()
    ceiling = phases["direct_batched"]["ballots_per_s"]
    ratios = {
        "http_vs_batched_ceiling": round(phases["http"]["ballots_per_s"] / ceiling, 2),
        "http_per_request_vs_batched_ceiling": round(phases["http_per_request"]["ballots_per_s"] / ceiling, 2),
        "direct_per_ballot_vs_batched_ceiling": round(phases["direct_per_ballot"]["ballots_per_s"] / ceiling, 2),
        "http_group_commit_vs_http_per_request": round(
            phases["http"]["ballots_per_s"] / phases["http_per_request"]["ballots_per_s"], 2),
    }
    print(json.dumps(ratios), flush=True)
    return {"phases": phases, "ratios": ratios,
            "goals": {"http_at_least_half_of_ceiling": ratios["http_vs_batched_ceiling"] >= 0.5,
                      "p99_under_100ms_at_half_rate": phases["http_half_rate"]["p99_ms"] < 100}}


async def admin(server_url: str, sql: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=6000, help="ballots per closed-loop phase")
    parser.add_argument("--clients", type=int, default=64, help="concurrent keep-alive HTTP clients")
    parser.add_argument("--workers", type=int, default=2, help="vote service processes")
    parser.add_argument("--half-seconds", type=float, default=10.0, help="length of the half-rate phase")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ballotline-bench-vote-") as tmp:
        server, redis_url, embedded, redis = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL"), None, None
        if not server:
            from services.common.embedded import EmbeddedPostgres

            embedded = EmbeddedPostgres(Path(tmp) / "pg", delete_on_exit=True)
            server = embedded.url("postgres")
        if not redis_url:
            from services.common.embedded import EmbeddedRedis

            redis = EmbeddedRedis(Path(tmp) / "redis").start()
            redis_url = redis.url()
        name = f"ballotline_bench_vote_{uuid.uuid4().hex[:8]}"
        asyncio.run(admin(server, f'CREATE DATABASE "{name}"'))
        try:
            url = urlunsplit(urlsplit(server)._replace(path="/" + name))
            result = asyncio.run(run(url, redis_url, args, Path(tmp)))
        finally:
            asyncio.run(admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if redis:
                redis.stop()
            if embedded:
                embedded.stop()
    result |= {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "settings": vars(args), "postgres": "DATABASE_URL" if not embedded else "embedded (pgserver)",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results in {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
