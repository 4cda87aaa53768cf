"""The vote service under test: `ballotline serve vote --workers W` in its own session."""
from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import aiohttp

from . import ROOT
from .net import free_port
from .procfs import children


class Service:
    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        self.port = free_port()
        self.workers = workers
        self.base = f"http://127.0.0.1:{self.port}"
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(ROOT / ".venv/bin/ballotline"), "serve", "vote", "--workers", str(workers)],
                env={**os.environ, **env, "PORT": str(self.port)}, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )

    def worker_pids(self) -> list[int]:
        return children(self.process.pid) if self.workers > 1 else [self.process.pid]

    async def ready(self, session: aiohttp.ClientSession) -> None:
        """Ready when every worker is: 20 answers in a row on new connections (which the
        kernel spreads over the SO_REUSEPORT workers) are 200."""
        in_a_row = 0
        for _ in range(800):
            try:
                async with session.get(self.base + "/readyz", headers={"Connection": "close"}) as r:
                    in_a_row = in_a_row + 1 if r.status == 200 and len(self.worker_pids()) >= self.workers else 0
            except aiohttp.ClientError:
                in_a_row = 0
            if in_a_row >= 20:
                return
            await asyncio.sleep(0.005 if in_a_row else 0.05)
        raise RuntimeError("the vote service did not become ready; see its log")

    def stop(self) -> None:
        self.process.terminate()  # SIGTERM to the supervisor, which forwards it
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
