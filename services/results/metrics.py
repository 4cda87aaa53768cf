"""Prometheus metrics of the results read side (`ballotline_results_*`). Gauges name
their multi-process mode (serve --workers N)."""
from __future__ import annotations

from prometheus_client import Counter, Gauge

SNAPSHOT_UPDATES = Counter("ballotline_results_snapshot_updates_total", "New snapshot versions swapped into memory.")
SNAPSHOT_SOURCE_ERRORS = Counter(
    "ballotline_results_refresh_errors_total", "Failed attempts to refresh snapshots from Redis/Postgres."
)
STREAM_SUBSCRIBERS = Gauge(
    "ballotline_results_stream_subscribers", "Open results streams (SSE).", multiprocess_mode="livesum"
)
STREAM_EVENTS = Counter("ballotline_results_stream_events_total", "Snapshot events written to streams.")
