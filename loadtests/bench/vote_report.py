"""What the vote benchmark prints and keeps: one JSON row a phase, then the ratios to the
batched ceiling and the goals."""
from __future__ import annotations

import json

from .cpu import CpuMeter


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1) if ordered else 0.0


def summary(label: str, n: int, seconds: float, latencies: list[float] | None = None, *,
            cpu: CpuMeter | None = None, extra: dict | None = None, cpu_ballots: int | None = None) -> dict:
    row = {"phase": label, "ballots": n, "seconds": round(seconds, 2), "ballots_per_s": round(n / seconds)}
    if latencies:
        row |= {"p50_ms": pct(latencies, 0.50), "p99_ms": pct(latencies, 0.99)}
    if cpu is not None:
        row["cpu_us_per_ballot"] = cpu.per_ballot(cpu_ballots or n)
    row |= extra or {}
    print(json.dumps(row), flush=True)
    return row


def verdict(phases: dict[str, dict]) -> dict:
    """The phases, their ratios (printed) and whether the goals are met."""
    ceiling = phases["direct_batched"]["ballots_per_s"]
    ratios = {
        "http_vs_batched_ceiling": round(phases["http"]["ballots_per_s"] / ceiling, 2),
        "http_per_request_vs_batched_ceiling": round(phases["http_per_request"]["ballots_per_s"] / ceiling, 2),
        "direct_per_ballot_vs_batched_ceiling": round(phases["direct_per_ballot"]["ballots_per_s"] / ceiling, 2),
        "http_group_commit_vs_http_per_request": round(
            phases["http"]["ballots_per_s"] / phases["http_per_request"]["ballots_per_s"], 2),
    }
    print(json.dumps(ratios), flush=True)
    return {"phases": phases, "ratios": ratios,
            "goals": {"http_at_least_half_of_ceiling": ratios["http_vs_batched_ceiling"] >= 0.5,
                      "p99_under_100ms_at_half_rate": phases["http_half_rate"]["p99_ms"] < 100,
                      "vote_cpu_under_350us_per_ballot":
                          phases["http"]["cpu_us_per_ballot"].get("vote_workers", 1e9) < 350}}
