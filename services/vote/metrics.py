"""The vote service's Prometheus metrics (prefix `ballotline_vote_`). No label ever holds
a voter, a key or a choice."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

BALLOTS = Counter(
    "ballotline_vote_ballots_total",
    "Ballot requests answered: accepted (new ballot committed), replayed, or refused by problem code.",
    ["result", "code"],
)
BATCH_SIZE = Histogram(
    "ballotline_vote_batch_size",
    "Ballots per group-commit transaction.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
QUEUE_DEPTH = Gauge(
    "ballotline_vote_queue_depth",
    "Ballots waiting for a group commit.",
    multiprocess_mode="livesum",
)
COMMIT_LATENCY = Histogram(
    "ballotline_vote_commit_seconds",
    "Time to write and commit one batch.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


# Labelled children looked up once, on first use (so /metrics shows the same series as
# before): `labels()` takes a lock and builds a tuple on every call otherwise.
_children: dict[tuple[str, str], Counter] = {}


def _ballots(result: str, code: str) -> Counter:
    child = _children.get((result, code))
    if child is None:
        child = _children[(result, code)] = BALLOTS.labels(result, code)
    return child


def accepted() -> None:
    _ballots("accepted", "created").inc()


def replayed() -> None:
    _ballots("replayed", "replayed").inc()


def refused(code: str) -> None:
    _ballots("refused", code).inc()
