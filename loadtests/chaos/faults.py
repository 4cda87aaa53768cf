"""The faults a chaos experiment injects into a running stack (loadtests/runner/stack.py):
processes killed or stopped, Postgres restarted or down, Redis flushed or killed. Each
fault returns once it has been done (and, for an outage, undone); recovery is the
services' own business and is what the experiment measures.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from pgserver._commands import pg_ctl
from pgserver.utils import PostmasterInfo

from loadtests.runner.stack import ROOT, Stack


def restart_service(stack: Stack, name: str) -> None:
    """Start `name` again the way the stack first started it (its log appended)."""
    log = open(stack.run_dir / f"service-{name}.log", "ab")
    stack.processes[name] = subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", "serve", name, "--workers", "1"],
        env={**stack.env, "PORT": str(stack.ports[name])},
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )


def kill_service(stack: Stack, name: str) -> None:
    """kill -9 of the service's whole process group (only what the stack started), then a
    restart one second later, as a supervisor (systemd, Kubernetes) would."""
    process = stack.processes[name]
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    time.sleep(1.0)
    restart_service(stack, name)


def sigterm_service(stack: Stack, name: str) -> None:
    """A rolling restart: SIGTERM (the service drains, then exits 0), then a restart."""
    process = stack.processes[name]
    process.send_signal(signal.SIGTERM)
    code = process.wait(60)
    if code != 0:
        raise RuntimeError(f"{name} exited with {code} after SIGTERM")
    restart_service(stack, name)


def _pg(stack: Stack, *args: str) -> None:
    server = stack.postgres._server  # noqa: SLF001 - the embedded server's own pg_ctl and user
    pg_ctl(["-w", *args], pgdata=server.pgdata, user=server.system_user, timeout=60)


def restart_postgres(stack: Stack, mode: str) -> None:
    _pg(stack, "restart", "-m", mode)


def postgres_down(stack: Stack, seconds: float) -> None:
    server = stack.postgres._server  # noqa: SLF001
    info = PostmasterInfo.read_from_pgdata(server.pgdata)
    _pg(stack, "stop", "-m", "fast")
    time.sleep(seconds)
    _pg(stack, "-o", '-h ""', "-o", f"-k {info.socket_dir}", "-l", str(server.log), "start")


def lose_primary(stack: Stack) -> None:
    """kill -9 of the Postgres primary; its synchronous standby is promoted (standby.py)."""
    stack.standby.kill_primary_and_promote()


def flush_redis(stack: Stack) -> None:
    import redis

    redis.Redis(unix_socket_path=str(stack.redis.socket_path), socket_timeout=5).flushall()


def kill_redis(stack: Stack) -> None:
    stack.redis.process.kill()
    stack.redis.process.wait()
    stack.redis.process = None
    time.sleep(1.0)
    stack.redis.start()


PRIMARY_LOST = "Postgres primary lost (sync standby promoted)"


@dataclass(frozen=True)
class Fault:
    name: str
    inject: Callable[[Stack], None]


FAULTS: list[Fault] = [
    Fault("kill -9 vote", lambda s: kill_service(s, "vote")),
    Fault("kill -9 auth", lambda s: kill_service(s, "auth")),
    Fault("kill -9 results (and its tally)", lambda s: kill_service(s, "results")),
    Fault("SIGTERM vote under load", lambda s: sigterm_service(s, "vote")),
    Fault("Postgres restart -m fast", lambda s: restart_postgres(s, "fast")),
    Fault("Postgres restart -m immediate", lambda s: restart_postgres(s, "immediate")),
    Fault("Postgres down 15 s", lambda s: postgres_down(s, 15.0)),
    Fault("Redis FLUSHALL", flush_redis),
    Fault("Redis kill -9", kill_redis),
    Fault(PRIMARY_LOST, lose_primary),  # last: the stack's Postgres is the promoted standby afterwards
]
SHORT = ("kill -9 vote", "Postgres restart -m immediate", "Redis FLUSHALL")
