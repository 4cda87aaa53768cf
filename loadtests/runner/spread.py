"""How the users were spread over the Locust workers, and whether the run may be trusted.

Pure functions over what the workers reported (`locust-workers.json`, written by
loadtests/scenario/workers.py: one sample per worker report, every ~3 s) and what the
monitor read from /proc for each process (CPU seconds, peak RSS, peak open files, the
open-files limit). A run fails loudly when a worker held more than MAX_SHARE times its
fair share of users, or a worker reached its open-files limit: either way the load
generator measured itself rather than the services (issue 12: one of 8 workers held
20,000 files while the others idled).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

MAX_SHARE = 1.3  # a worker above 1.3x its fair share of users fails the run
FD_LIMIT_MARGIN = 0.99  # sampled once a second: within 1% of the limit counts as reached
MIN_HELD = 0.95  # fewer users than this share of the target during the hold fails the run
REPORT_INTERVAL = 3.0  # Locust's WORKER_REPORT_INTERVAL: a worker's count can be this old


def totals(samples: list[dict]) -> list[tuple[float, int]]:
    """(time, users on all workers) after each report: every worker's latest count summed."""
    latest: dict[int, int] = {}
    out = []
    for s in sorted(samples, key=lambda s: s["t"]):
        latest[s["pid"]] = s["users"]
        out.append((s["t"], sum(latest.values())))
    return out


def hold_window(spawned_at: float | None, stopped_at: float | None) -> tuple[float, float] | None:
    """From one report interval after the ramp ended (every worker has reported its new
    count by then) to the moment the master stopped the users."""
    if spawned_at is None or stopped_at is None or stopped_at <= spawned_at + REPORT_INTERVAL:
        return None
    return spawned_at + REPORT_INTERVAL, stopped_at


def users_held(samples: list[dict], window: tuple[float, float] | None) -> dict:
    """Users actually running on all workers: the peak over the run, min/max over the hold."""
    series = totals(samples)
    during = [n for t, n in series if window and window[0] <= t <= window[1]]
    return {"peak": max((n for _, n in series), default=0), "min": min(during, default=0),
            "max": max(during, default=0), "held": min(during, default=0), "samples": len(during),
            "source": "worker reports"}


def fair_share(users: int, workers: int) -> int:
    return math.ceil(users / max(1, workers))


@dataclass
class WorkerRow:
    index: int
    pid: int
    peak_users: int
    hold_min: int
    hold_max: int
    classes: dict[str, int]  # at the peak
    cpu_seconds: float | None = None
    peak_rss_mb: float | None = None
    peak_fds: int | None = None
    fd_limit: int | None = None


def worker_rows(samples: list[dict], processes: list[dict], window: tuple[float, float] | None) -> list[WorkerRow]:
    by_pid = {p["pid"]: p for p in processes}
    rows: dict[int, WorkerRow] = {}
    for s in sorted(samples, key=lambda s: s["t"]):
        row = rows.setdefault(s["pid"], WorkerRow(s["index"], s["pid"], 0, -1, 0, {}))
        row.index = s["index"] if s["index"] >= 0 else row.index
        if s["users"] >= row.peak_users:
            row.peak_users, row.classes = s["users"], dict(s.get("classes", {}))
        if window and window[0] <= s["t"] <= window[1]:
            row.hold_min = s["users"] if row.hold_min < 0 else min(row.hold_min, s["users"])
            row.hold_max = max(row.hold_max, s["users"])
    for row in rows.values():
        row.hold_min = max(row.hold_min, 0)
        p = by_pid.get(row.pid)
        if p:
            row.cpu_seconds, row.peak_rss_mb = p.get("cpu_seconds"), p.get("peak_rss_mb")
            row.peak_fds, row.fd_limit = p.get("peak_fds"), p.get("fd_limit")
    return sorted(rows.values(), key=lambda r: (r.index, r.pid))


def problems(rows: list[WorkerRow], users: int, workers: int, emfile_errors: int = 0,
             held: dict | None = None, missing: int = 0, max_share: float = MAX_SHARE) -> list[str]:
    """Why the load generator cannot be trusted in this run; empty when it can."""
    out = []
    if held is not None and held["min"] < MIN_HELD * users:
        out.append(f"only {held['min']:,} of the {users:,} users were running at some point of the hold "
                   f"(worker reports; max {held['max']:,})")
    if missing:
        out.append(f"the master marked a worker missing {missing} time(s) (no heartbeat for "
                   "loadtests/scenario/distribution.py's STALL_SECONDS): it redistributed or stopped users")
    if len(rows) < workers:
        out.append(f"only {len(rows)} of {workers} Locust workers reported users")
    share = fair_share(users, workers)
    for r in rows:
        if r.peak_users > max_share * share:
            out.append(f"worker {r.index} (pid {r.pid}) held up to {r.peak_users:,} users, "
                       f"{r.peak_users / share:.2f}x its fair share of {share:,} (limit {max_share}x)")
        if r.peak_fds and r.fd_limit and r.peak_fds >= FD_LIMIT_MARGIN * r.fd_limit:
            out.append(f"worker {r.index} (pid {r.pid}) reached its open-files limit: "
                       f"{r.peak_fds:,} open of {r.fd_limit:,}")
    if emfile_errors:
        out.append(f"{emfile_errors:,} requests failed with 'Too many open files' on the load side")
    return out


def emfile_errors(locust_errors: list[dict]) -> int:
    return sum(e.get("occurrences", 0) for e in locust_errors if "Too many open files" in str(e.get("error", "")))


_NOFILE = re.compile(r"^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)", re.MULTILINE)


def soft_nofile(limits_text: str) -> int | None:
    """The soft open-files limit from the text of /proc/<pid>/limits."""
    m = _NOFILE.search(limits_text)
    if not m or m.group(1) == "unlimited":
        return None
    return int(m.group(1))
