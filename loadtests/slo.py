"""Service-level objectives for a load run, evaluated from Locust's statistics. Pure:
the quitting hook (scenario/hooks.py) feeds it plain numbers, the tests feed it theirs.

A run passes when the failure ratio is below `fail_ratio`, every endpoint's p95 and p99
are below their thresholds, and the load side never ran out of CPU (a saturated load
generator measures itself, not the system)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    method: str
    name: str
    requests: int
    failures: int
    p50: float
    p95: float
    p99: float
    rps: float


@dataclass(frozen=True)
class Thresholds:
    fail_ratio: float = 0.001
    p95_ms: float = 500.0
    p99_ms: float = 1000.0


def breaches(endpoints: list[Endpoint], total_requests: int, total_failures: int, load_cpu_warning: bool,
             limits: Thresholds) -> list[str]:
    """Every objective the run missed, as sentences; [] when it met them all."""
    found = []
    ratio = total_failures / total_requests if total_requests else 0.0
    if total_requests == 0:
        found.append("no requests were made")
    if ratio >= limits.fail_ratio:
        found.append(f"failure ratio {ratio:.4%} >= {limits.fail_ratio:.4%} ({total_failures} of {total_requests})")
    for e in endpoints:
        if e.method == "SSE" or e.requests == 0:
            continue  # stream events: their checks are failures, their timing is not a latency
        if e.p95 >= limits.p95_ms:
            found.append(f"{e.method} {e.name}: p95 {e.p95:.0f} ms >= {limits.p95_ms:.0f} ms")
        if e.p99 >= limits.p99_ms:
            found.append(f"{e.method} {e.name}: p99 {e.p99:.0f} ms >= {limits.p99_ms:.0f} ms")
    if load_cpu_warning:
        found.append("a Locust process exceeded 90% CPU: the load side was saturated")
    return found
