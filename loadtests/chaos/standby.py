"""A synchronous streaming-replication standby of the stack's embedded Postgres, on this
machine (for the "primary lost" experiment): `pg_basebackup -R` from the primary, its own
socket folder, `synchronous_standby_names` on the primary so every COMMIT the services
acknowledge is on both. The services connect with a two-host DSN and
`target_session_attrs=read-write`, so after `promote` they find the new primary
themselves.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
from pgserver._commands import create_command_function, pg_ctl
from pgserver.utils import PostmasterInfo

from loadtests.runner.stack import Stack

NAME = "chaos_standby"
pg_basebackup = create_command_function("pg_basebackup")


class Standby:
    def __init__(self, stack: Stack) -> None:
        primary = stack.postgres._server  # noqa: SLF001 - the embedded server's folder and user
        self.user = primary.system_user
        self.primary_pgdata = Path(primary.pgdata)
        self.primary_socket = PostmasterInfo.read_from_pgdata(self.primary_pgdata).socket_dir
        self.pgdata = stack.data / "pg-standby"
        self.socket = Path(tempfile.mkdtemp(prefix="bl-sb-"))  # short: Unix socket paths are limited
        self.database = urlsplit(stack.env["DATABASE_URL"]).path.lstrip("/")

    def _own(self, path: Path) -> None:
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def start(self) -> None:
        self.pgdata.mkdir(mode=0o700)
        self._own(self.pgdata)
        self.socket.chmod(0o777)
        conninfo = f"host={self.primary_socket} user=postgres application_name={NAME}"
        pg_basebackup(["-D", str(self.pgdata), "-d", conninfo, "-R", "-X", "stream", "-c", "fast"], user=self.user,
                      timeout=120)
        pg_ctl(["-w", "-o", '-h ""', "-o", f"-k {self.socket}", "-l", str(self.pgdata / "log"), "start"],
               pgdata=self.pgdata, user=self.user, timeout=60)
        asyncio.run(self._make_synchronous())

    async def _make_synchronous(self) -> None:
        conn = await asyncpg.connect(host=str(self.primary_socket), user="postgres", database=self.database)
        try:
            await conn.execute(f"ALTER SYSTEM SET synchronous_standby_names = '{NAME}'")
            await conn.execute("SELECT pg_reload_conf()")
            for _ in range(200):
                state = await conn.fetchval("SELECT sync_state FROM pg_stat_replication WHERE application_name = $1", NAME)
                if state == "sync":
                    return
                await asyncio.sleep(0.05)
            raise RuntimeError(f"the standby never became synchronous (state {state!r})")
        finally:
            await conn.close()

    def url(self) -> str:
        """Both servers; connections go to whichever accepts writes."""
        return (f"postgresql://postgres@/{self.database}?host={self.primary_socket},{self.socket}"
                "&target_session_attrs=read-write")

    def kill_primary_and_promote(self) -> float:
        """kill -9 of the primary's postmaster, then `pg_ctl promote`; seconds it took."""
        started = time.monotonic()
        pid = int((self.primary_pgdata / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        pg_ctl(["-w", "promote"], pgdata=self.pgdata, user=self.user, timeout=60)
        return time.monotonic() - started

    def stop(self) -> None:
        """Stop the standby (or the promoted primary) this object started, whatever state it is in."""
        pid_file = self.pgdata / "postmaster.pid"
        if pid_file.exists():
            try:
                pg_ctl(["-w", "stop", "-m", "fast"], pgdata=self.pgdata, user=self.user, timeout=60)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                with contextlib.suppress(OSError, ValueError):
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)  # immediate shutdown
        shutil.rmtree(self.socket, ignore_errors=True)
