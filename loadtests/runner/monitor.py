"""Per-process CPU, peak RSS and peak open files during a run, sampled once a second by
a thread (psutil), grouped by side: load (Locust), services, databases."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import psutil


@dataclass
class ProcessStats:
    pid: int
    group: str
    name: str
    cpu_seconds: float = 0.0
    peak_rss: int = 0
    peak_fds: int = 0
    _start_cpu: float | None = None


@dataclass
class Monitor:
    roots: dict[str, list[int]] = field(default_factory=dict)  # group → root pids (with children)
    interval: float = 1.0
    seen: dict[int, ProcessStats] = field(default_factory=dict)
    machine_busy: list[tuple[float, float]] = field(default_factory=list)  # (time, busy cores)

    def watch(self, group: str, pid: int | None) -> None:
        if pid:
            self.roots.setdefault(group, []).append(pid)

    def start(self) -> None:
        self._stop = threading.Event()
        self._mark = None
        self._thread = threading.Thread(target=self._run, name="monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def mark(self) -> None:
        """From now on CPU is counted (call when the load starts)."""
        self._mark = time.time()
        for stats in self.seen.values():
            stats._start_cpu, stats.cpu_seconds = None, 0.0

    def _run(self) -> None:
        psutil.cpu_percent(None)
        while not self._stop.wait(self.interval):
            self.machine_busy.append((time.time(), psutil.cpu_percent(None) / 100 * psutil.cpu_count()))
            for group, pids in list(self.roots.items()):
                for pid in pids:
                    self._sample_tree(group, pid)

    def _sample_tree(self, group: str, pid: int) -> None:
        try:
            root = psutil.Process(pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        for p in processes:
            try:
                with p.oneshot():
                    times = p.cpu_times()
                    cpu = times.user + times.system
                    rss = p.memory_info().rss
                    fds = p.num_fds()
                    name = " ".join(p.cmdline()[1:6])[-80:] or p.name()
            except psutil.Error:
                continue
            stats = self.seen.setdefault(p.pid, ProcessStats(p.pid, group, name))
            if stats._start_cpu is None:
                stats._start_cpu = cpu if self._mark else 0.0
            stats.cpu_seconds = max(stats.cpu_seconds, cpu - stats._start_cpu)
            stats.peak_rss = max(stats.peak_rss, rss)
            stats.peak_fds = max(stats.peak_fds, fds)

    def by_group(self, seconds: float) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for s in self.seen.values():
            g = out.setdefault(s.group, {"cpu_seconds": 0.0, "peak_rss": 0, "processes": 0})
            g["cpu_seconds"] += s.cpu_seconds
            g["peak_rss"] += s.peak_rss
            g["processes"] += 1
        for g in out.values():
            g["cores"] = g["cpu_seconds"] / seconds if seconds > 0 else 0.0
        return out

    def processes(self) -> list[dict]:
        return [
            {"pid": s.pid, "group": s.group, "name": s.name, "cpu_seconds": round(s.cpu_seconds, 1),
             "peak_rss_mb": round(s.peak_rss / 2**20, 1), "peak_fds": s.peak_fds}
            for s in sorted(self.seen.values(), key=lambda s: (s.group, -s.cpu_seconds))
        ]
