"""`ballotline up` (what `make run` runs): the whole system on one machine.

1. Postgres and Redis: the ones named by DATABASE_URL / REDIS_URL, else embedded ones
   kept in the data folder (BALLOTLINE_DATA_DIR, default `.data/`), surviving restarts.
2. Development secrets and signing keys, generated once into `.data/secrets/`.
3. Migrations, then the demo election (idempotent: a second run reuses it).
4. auth, vote and results in development mode (BALLOTLINE_ENV=development: the one place
   that sets it), each in its own process group so that Ctrl-C reaches only this
   supervisor, which then stops them in order (services, Redis, Postgres). Each serves
   /metrics on its internal listener, METRICS_HOST at its port + 1000 (METRICS_PORT=0: none).
"""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import asyncpg

from services.common.embedded import EmbeddedPostgres, EmbeddedRedis, data_dir
from services.common.migrate import migrate
from services.common.settings import METRICS_PORT_OFFSET

from .devsecrets import ensure_dev_secrets

SERVICES = (("auth", "AUTH_PORT", 8001), ("vote", "VOTE_PORT", 8002), ("results", "RESULTS_PORT", 8003))


def _say(message: str) -> None:
    print(f"[ballotline] {message}", flush=True)


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


async def _prepare_database(url: str, demo_voters: int) -> str:
    from .demo import ensure_demo

    conn = await asyncpg.connect(url)
    try:
        applied = await migrate(conn)
        _say(f"migrations: {len(applied)} applied" if applied else "migrations: up to date")
        return await ensure_demo(conn, voters=demo_voters)
    finally:
        await conn.close()


def wait_ready(name: str, url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    """Wait until the service at `url` answers /readyz with 200; fail early if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with code {process.returncode} while starting")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{name} was not ready after {timeout:.0f} s")


class Restarts:
    """When `make run` restarts a service that exited: not after a configuration error
    (exit 2: a restart cannot help), and at most 5 times a minute per service (a crash
    loop is reported, not hidden)."""

    LIMIT, WINDOW = 5, 60.0

    def __init__(self) -> None:
        self._times: dict[str, list[float]] = {}

    def refuse(self, name: str, code: int, now: float) -> str | None:
        if code == 2:
            return "a configuration error, which a restart cannot fix"
        recent = [t for t in self._times.get(name, []) if now - t < self.WINDOW] + [now]
        self._times[name] = recent
        if len(recent) > self.LIMIT:
            return f"it crashed {len(recent)} times in {self.WINDOW:.0f} s"
        return None


def _stop(processes: dict[str, subprocess.Popen], timeout: float = 20.0) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for name, process in processes.items():
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _say(f"{name} did not stop in time; killing it")
            process.kill()
            process.wait()


def run() -> int:
    started = time.monotonic()
    data = data_dir()
    env = dict(os.environ)
    env.setdefault("BALLOTLINE_ENV", "development")
    if env["BALLOTLINE_ENV"] == "production":
        _say("`ballotline up` is a development tool; run the services with `ballotline serve` in production")
        return 2
    host = env.setdefault("HOST", "127.0.0.1")
    ports = {name: int(env.get(var, default)) for name, var, default in SERVICES}
    metrics_host = env.setdefault("METRICS_HOST", "127.0.0.1")
    metrics_ports = {name: 0 if env.get("METRICS_PORT") == "0" else port + METRICS_PORT_OFFSET
                     for name, port in ports.items()}
    busy = [f"{name} ({port})" for name, port in ports.items() if not _port_free(host, port)]
    busy += [f"{name} metrics ({port})" for name, port in metrics_ports.items()
             if port and not _port_free(metrics_host, port)]
    if busy:
        _say(f"port(s) already in use: {', '.join(busy)} — is Ballotline already running? "
             "Stop it, or set AUTH_PORT / VOTE_PORT / RESULTS_PORT.")
        return 1

    postgres = redis = None
    processes: dict[str, subprocess.Popen] = {}
    stop_requested = False

    def request_stop(signum, _frame) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        if not env.get("DATABASE_URL"):
            _say(f"starting embedded Postgres in {data / 'pg'}")
            postgres = EmbeddedPostgres(data / "pg")
            env["DATABASE_URL"] = postgres.url()
        if not env.get("REDIS_URL"):
            _say(f"starting embedded Redis in {data / 'redis'}")
            redis = EmbeddedRedis(data / "redis").start()
            env["REDIS_URL"] = redis.url()
        for key, value in ensure_dev_secrets(data / "secrets").items():
            env.setdefault(key, value)
        env.setdefault("VOTE_JWKS_URL", f"http://127.0.0.1:{ports['auth']}/.well-known/jwks.json")

        election_id = asyncio.run(_prepare_database(env["DATABASE_URL"], int(env.get("BALLOTLINE_DEMO_VOTERS", "100000"))))
        workers = env.get("WORKERS", "1")

        def start(name: str) -> subprocess.Popen:
            return subprocess.Popen(
                [sys.executable, "-m", "services.cli.main", "serve", name, "--workers", workers],
                env={**env, "PORT": str(ports[name]), "METRICS_PORT": str(metrics_ports[name])},
                start_new_session=True,
            )

        for name in ports:
            processes[name] = start(name)
        for name, port in ports.items():
            wait_ready(name, f"http://127.0.0.1:{port}", processes[name])
        _say(f"ready in {time.monotonic() - started:.1f} s")
        print(walkthrough(election_id, host, ports, metrics_host, metrics_ports), flush=True)

        restarts = Restarts()
        while not stop_requested:
            for name, process in processes.items():
                code = process.poll()
                if code is None:
                    continue
                why = restarts.refuse(name, code, time.monotonic())
                if why:
                    _say(f"{name} exited with code {code}; {why}; stopping everything")
                    return 1
                _say(f"{name} exited with code {code}; restarting it (as systemd's Restart= would)")
                processes[name] = start(name)
            time.sleep(0.2)
        _say("stopping")
        return 0
    except RuntimeError as exc:
        _say(str(exc))
        return 1
    finally:
        _stop(processes)
        if redis:
            redis.stop()
        if postgres:
            postgres.stop()
        _say("stopped")


def metrics_summary(metrics_host: str, metrics_ports: dict[str, int]) -> str:
    if not any(metrics_ports.values()):
        return "metrics  off (METRICS_PORT=0)"
    return "metrics  " + "   ".join(
        f"{name} http://{metrics_host}:{port}/metrics" for name, port in metrics_ports.items() if port
    ) + "   (internal listeners, not the public ports)"


def walkthrough(election_id: str, host: str, ports: dict[str, int], metrics_host: str,
                metrics_ports: dict[str, int]) -> str:
    auth, vote, results = (f"http://{host}:{ports[n]}" for n in ("auth", "vote", "results"))
    metrics = metrics_summary(metrics_host, metrics_ports)
    json_field = "python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])'"
    return f"""
  auth     {auth}      vote {vote}      results {results}
  {metrics}
  development mode (BALLOTLINE_ENV=development): never for a real election
  demo election: {election_id} (voters voter-000001 .. ; codes go to the development outbox)

  Vote as a demo voter:
    V=voter-000042   # precinct p02: mayor, district-1 and the council party list
    CH=$(curl -s -X POST {auth}/v1/auth/otp -d '{{"election_id":"{election_id}","voter_id":"'$V'"}}' | {json_field} challenge_id)
    CODE=$(curl -s {auth}/v1/dev/outbox/{election_id}/$V | {json_field} code)
    TOKEN=$(curl -s -X POST {auth}/v1/auth/otp/verify -d '{{"challenge_id":"'$CH'","code":"'$CODE'"}}' | {json_field} access_token)
    curl -s {results}/v1/elections/{election_id}
    curl -s -X POST {vote}/v1/elections/{election_id}/ballots -H "Authorization: Bearer $TOKEN" \\
         -H "Idempotency-Key: $(uuidgen 2>/dev/null || date +%s%N)" \\
         -d '{{"selections": {{"mayor": ["grace"], "district-1": ["against-all"], "council": ["green"]}}}}'
    curl -s {vote}/v1/elections/{election_id}/ballots/mine -H "Authorization: Bearer $TOKEN"
    curl -s {results}/v1/elections/{election_id}/results

  Press Ctrl-C to stop everything.
"""
