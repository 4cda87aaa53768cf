"""CPU used by groups of processes over a measured interval, per ballot."""
from __future__ import annotations

import resource
from collections.abc import Callable
from pathlib import Path

import asyncpg

from .procfs import children, cpu_seconds, machine_busy_seconds


class CpuMeter:
    """CPU used by groups of processes between `start` and `stop`. A group is a function
    returning its pids, asked at both ends (a process born meanwhile counts from zero)."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self.groups = groups
        self.before: dict[str, dict[int, float]] = {}
        self.used: dict[str, float] = {}

    def _sample(self) -> dict[str, dict[int, float]]:
        out = {}
        for name, pids in self.groups.items():
            out[name] = {pid: cpu for pid in pids() if (cpu := cpu_seconds(pid)) is not None}
        return out

    def start(self) -> None:
        self.before = self._sample()
        self._self = resource.getrusage(resource.RUSAGE_SELF)
        self._children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self._machine = machine_busy_seconds()

    def stop(self, *, load_generator: str | float) -> None:
        after = self._sample()
        for name, now in after.items():
            self.used[name] = sum(cpu - self.before[name].get(pid, 0.0) for pid, cpu in now.items())
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        if isinstance(load_generator, float):  # measured by the caller (wrk, from /proc)
            self.used["load_generator"] = load_generator
        elif load_generator == "children":  # a child process that has been waited for
            self.used["load_generator"] = kids.ru_utime + kids.ru_stime - self._children.ru_utime - self._children.ru_stime
        else:  # this process (Python client / direct asyncpg writer)
            self.used["load_generator"] = me.ru_utime + me.ru_stime - self._self.ru_utime - self._self.ru_stime
        self.used["machine_busy"] = machine_busy_seconds() - self._machine

    def per_ballot(self, ballots: int) -> dict[str, float]:
        return {name: round(seconds / ballots * 1e6, 1) for name, seconds in self.used.items()} if ballots else {}


class Postgres:
    """The Postgres server's processes, when it runs on this machine (postmaster + children)."""

    def __init__(self) -> None:
        self.postmaster: int | None = None

    async def locate(self, url: str) -> None:
        conn = await asyncpg.connect(url)
        try:
            data = await conn.fetchval("SELECT setting FROM pg_settings WHERE name = 'data_directory'")
        finally:
            await conn.close()
        try:
            self.postmaster = int(Path(data, "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError, TypeError):
            self.postmaster = None  # another machine, or not readable: no Postgres CPU figure

    def pids(self) -> list[int]:
        return [self.postmaster, *children(self.postmaster)] if self.postmaster else []
