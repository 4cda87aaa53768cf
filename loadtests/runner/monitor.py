"""Per-process CPU, peak RSS and peak open files during a run, sampled once a second by
a thread (psutil), grouped by side: load (Locust), services, databases. Also the
machine-wide kernel evidence a run needs to name its limit: TCP counters from
/proc/net/netstat and /proc/net/snmp (listen-queue overflows, SYN retransmits, connect
failures) as deltas over the load, and peaks of /proc/net/sockstat (sockets in use,
TIME_WAIT, TCP memory pages) and of busy cores. These counters are machine-wide: other
processes on the host count too."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from .spread import soft_nofile

KERNEL_COUNTERS = ("TcpExt:ListenOverflows", "TcpExt:ListenDrops", "TcpExt:TCPSynRetrans", "TcpExt:TCPTimeouts",
                   "TcpExt:TCPAbortOnMemory", "TcpExt:TCPAbortOnTimeout", "Tcp:AttemptFails", "Tcp:EstabResets",
                   "Tcp:ActiveOpens", "Tcp:PassiveOpens")


def kernel_counters() -> dict[str, int]:
    """TCP counters of /proc/net/netstat and /proc/net/snmp (machine-wide)."""
    out: dict[str, int] = {}
    for path in ("/proc/net/netstat", "/proc/net/snmp"):
        try:
            lines = Path(path).read_text().splitlines()
        except OSError:
            continue
        for head, values in zip(lines[::2], lines[1::2]):
            prefix, names = head.split(":", 1)
            for name, value in zip(names.split(), values.split(":", 1)[1].split()):
                key = f"{prefix}:{name}"
                if key in KERNEL_COUNTERS:
                    out[key] = int(value)
    return out


def sockstat() -> dict[str, int]:
    """TCP inuse / orphan / tw / alloc / mem (pages) from /proc/net/sockstat."""
    try:
        for line in Path("/proc/net/sockstat").read_text().splitlines():
            if line.startswith("TCP:"):
                parts = line.split()[1:]
                return {f"tcp_{k}": int(v) for k, v in zip(parts[::2], parts[1::2])}
    except (OSError, ValueError):
        pass
    return {}


@dataclass
class ProcessStats:
    pid: int
    group: str
    name: str
    cpu_seconds: float = 0.0
    peak_rss: int = 0
    peak_fds: int = 0
    fd_limit: int | None = None  # soft RLIMIT_NOFILE, from /proc/<pid>/limits
    _start_cpu: float | None = None


@dataclass
class Monitor:
    roots: dict[str, list[int]] = field(default_factory=dict)  # group → root pids (with children)
    interval: float = 1.0
    seen: dict[int, ProcessStats] = field(default_factory=dict)
    machine_busy: list[tuple[float, float]] = field(default_factory=list)  # (time, busy cores)
    sockstat_peak: dict[str, int] = field(default_factory=dict)
    kernel_start: dict[str, int] = field(default_factory=dict)
    kernel_delta: dict[str, int] = field(default_factory=dict)
    baseline: dict[int, float] = field(default_factory=dict)  # pid → idle cores before the load
    machine_times: dict[str, float] = field(default_factory=dict)  # CPU seconds by kind over the load
    alone: set[int] = field(default_factory=set)  # roots watched without their children

    def watch(self, group: str, pid: int | None, children: bool = True) -> None:
        if pid:
            self.roots.setdefault(group, []).append(pid)
            if not children:
                self.alone.add(pid)

    def start(self) -> None:
        self._stop = threading.Event()
        self._mark = None
        self._thread = threading.Thread(target=self._run, name="monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        times = psutil.cpu_times()._asdict()
        self.machine_times = {k: round(v - self._times_start.get(k, v), 1) for k, v in times.items()
                              if k in ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")}
        end = kernel_counters()
        self.kernel_delta = {k: end[k] - self.kernel_start.get(k, end[k]) for k in end}

    def measure_baseline(self, seconds: float = 5.0) -> None:
        """Idle CPU of every watched process (services' background loops: tally worker,
        snapshot cache poll, heartbeats) over `seconds` before any load."""
        before: dict[int, float] = {}
        for pids in list(self.roots.values()):
            for pid in pids:
                before.update(_tree_cpu(pid))
        time.sleep(seconds)
        for pids in list(self.roots.values()):
            for pid in pids:
                for child, cpu in _tree_cpu(pid).items():
                    if child in before:
                        self.baseline[child] = max(0.0, cpu - before[child]) / seconds

    def mark(self) -> None:
        """From now on CPU is counted (call when the load starts)."""
        self.kernel_start = kernel_counters()
        self._times_start = psutil.cpu_times()._asdict()
        self._mark = time.time()
        for stats in self.seen.values():
            stats._start_cpu, stats.cpu_seconds = None, 0.0

    def _run(self) -> None:
        psutil.cpu_percent(None)
        while not self._stop.wait(self.interval):
            self.machine_busy.append((time.time(), psutil.cpu_percent(None) / 100 * psutil.cpu_count()))
            for key, value in sockstat().items():
                self.sockstat_peak[key] = max(self.sockstat_peak.get(key, 0), value)
            for group, pids in list(self.roots.items()):
                for pid in pids:
                    self._sample_tree(group, pid)

    def _sample_tree(self, group: str, pid: int) -> None:
        try:
            root = psutil.Process(pid)
            processes = [root] if pid in self.alone else [root, *root.children(recursive=True)]
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
            stats = self.seen.get(p.pid)
            if stats is None:
                stats = self.seen[p.pid] = ProcessStats(p.pid, group, name, fd_limit=fd_limit(p.pid))
            if stats._start_cpu is None:
                stats._start_cpu = cpu if self._mark else 0.0
            stats.cpu_seconds = max(stats.cpu_seconds, cpu - stats._start_cpu)
            stats.peak_rss = max(stats.peak_rss, rss)
            stats.peak_fds = max(stats.peak_fds, fds)

    def by_group(self, seconds: float) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for s in self.seen.values():
            g = out.setdefault(s.group, {"cpu_seconds": 0.0, "peak_rss": 0, "processes": 0, "idle_cores": 0.0,
                                         "peak_fds": 0})
            g["cpu_seconds"] += s.cpu_seconds
            g["peak_rss"] += s.peak_rss
            g["processes"] += 1
            g["idle_cores"] += self.baseline.get(s.pid, 0.0)
            g["peak_fds"] = max(g["peak_fds"], s.peak_fds)
        for g in out.values():
            g["cores"] = g["cpu_seconds"] / seconds if seconds > 0 else 0.0
        return out

    def processes(self) -> list[dict]:
        return [
            {"pid": s.pid, "group": s.group, "name": s.name, "cpu_seconds": round(s.cpu_seconds, 1),
             "peak_rss_mb": round(s.peak_rss / 2**20, 1), "peak_fds": s.peak_fds, "fd_limit": s.fd_limit,
             "idle_cores": round(self.baseline.get(s.pid, 0.0), 4)}
            for s in sorted(self.seen.values(), key=lambda s: (s.group, -s.cpu_seconds))
        ]


def fd_limit(pid: int) -> int | None:
    try:
        return soft_nofile(Path(f"/proc/{pid}/limits").read_text())
    except OSError:
        return None


def _tree_cpu(pid: int) -> dict[int, float]:
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return {}
    out = {}
    for p in processes:
        try:
            t = p.cpu_times()
            out[p.pid] = t.user + t.system
        except psutil.Error:
            continue
    return out
