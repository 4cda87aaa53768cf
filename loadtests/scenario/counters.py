"""Scenario counters that Locust's statistics cannot hold (ballot outcomes, answers by
status and problem code, snapshots checked), summed from every worker on the master.

Workers ship what they counted since their last report with Locust's own stats messages
(`report_to_master` → `worker_report`), so nothing is lost when a worker stops.
"""
from __future__ import annotations

from collections import Counter

_local: Counter = Counter()  # this process, since the last report
totals: Counter = Counter()  # the master's (or a local run's) sum


def count(name: str, n: int = 1) -> None:
    _local[name] += n


def answer(endpoint: str, status: int, code: str | None = None) -> None:
    """Count a non-success answer of `endpoint` by status and problem code."""
    _local[f"answer {endpoint} {status}{' ' + code if code else ''}"] += 1


def take() -> dict[str, int]:
    data = dict(_local)
    _local.clear()
    return data


def register(events) -> None:
    @events.report_to_master.add_listener
    def _ship(client_id, data):
        data["ballotline"] = take()

    @events.worker_report.add_listener
    def _sum(client_id, data):
        totals.update(data.get("ballotline", {}))


def final_totals(is_distributed: bool) -> dict[str, int]:
    if not is_distributed:
        totals.update(take())
    return dict(sorted(totals.items()))
