"""The system under test, started the way `ballotline up` starts it but sized for a load
run: fresh embedded Postgres and Redis in a scratch folder (deleted afterwards), the
development secrets, migrations, then each service as `ballotline serve NAME --workers N`
in its own process group, on free ports of 127.0.0.1 only.

Auth's per-address rate limits stay on: load users send X-Forwarded-For from a
benchmarking range and 127.0.0.0/8 is the trusted proxy, as behind a real load balancer.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

from services.cli.devsecrets import ensure_dev_secrets
from services.cli.devstack import wait_ready
from services.common.embedded import EmbeddedPostgres, EmbeddedRedis
from services.common.migrate import migrate

SERVICES = ("auth", "vote", "results")
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    def __init__(self, run_dir: Path, *, keep_data: bool = False, log_level: str = "WARNING") -> None:
        self.run_dir = run_dir
        self.data = Path(tempfile.mkdtemp(prefix="ballotline-load-"))
        self.keep_data = keep_data
        self.log_level = log_level
        self.env: dict[str, str] = {}
        self.ports = {name: free_port() for name in SERVICES}
        self.processes: dict[str, subprocess.Popen] = {}
        self.postgres: EmbeddedPostgres | None = None
        self.redis: EmbeddedRedis | None = None

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start_databases(self) -> None:
        self.postgres = EmbeddedPostgres(self.data / "pg", delete_on_exit=not self.keep_data)
        self.redis = EmbeddedRedis(self.data / "redis").start()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCUST_", "PYTEST_"))}
        env.update(
            BALLOTLINE_ENV="development",
            METRICS_PORT="0",  # the run reads no metrics, and a random port + 1000 could be taken
            BALLOTLINE_DATA_DIR=str(self.data),
            DATABASE_URL=self.postgres.url(),
            REDIS_URL=self.redis.url(),
            HOST="127.0.0.1",
            LOG_LEVEL=self.log_level,
            AUTH_TRUSTED_PROXIES="127.0.0.0/8",
            VOTE_JWKS_URL=f"{self.url('auth')}/.well-known/jwks.json",
            PYTHONUNBUFFERED="1",
        )
        env.update(ensure_dev_secrets(self.data / "secrets"))
        self.env = env
        asyncio.run(self._migrate())

    async def _migrate(self) -> None:
        conn = await asyncpg.connect(self.env["DATABASE_URL"])
        try:
            await migrate(conn)
        finally:
            await conn.close()

    def cli(self, *args: str, timeout: float = 600) -> str:
        """Run `ballotline ARGS` against this stack's database; raise on failure."""
        done = subprocess.run([sys.executable, "-m", "services.cli.main", *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"ballotline {' '.join(args)} failed ({done.returncode}): {done.stdout}{done.stderr}")
        return done.stdout.strip()

    def start_services(self, workers: dict[str, int], extra_env: dict[str, str] | None = None) -> None:
        for name in SERVICES:
            log = open(self.run_dir / f"service-{name}.log", "ab")
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "services.cli.main", "serve", name, "--workers", str(workers[name])],
                env={**self.env, **(extra_env or {}), "PORT": str(self.ports[name])},
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        for name in SERVICES:
            self._wait_ready(name)

    def _wait_ready(self, name: str, timeout: float = 90.0) -> None:
        try:
            wait_ready(name, self.url(name), self.processes[name], timeout)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; see service-{name}.log") from None

    def postgres_pid(self) -> int | None:
        pid_file = self.data / "pg" / "postmaster.pid"
        try:
            return int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop_services(self, timeout: float = 30.0) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # its own session: only what we started
                process.wait()

    def stop(self) -> None:
        self.stop_services()
        if self.redis:
            self.redis.stop()
        if self.postgres:
            self.postgres.stop()
        if not self.keep_data:
            shutil.rmtree(self.data, ignore_errors=True)
