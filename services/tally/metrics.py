"""Prometheus metrics of the tally worker (`ballotline_tally_*`). Gauges name their
multi-process mode (serve --workers N)."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

TALLY_BATCHES = Counter("ballotline_tally_batches_total", "Outbox batches applied (non-empty).")
TALLY_ROWS = Counter("ballotline_tally_outbox_rows_applied_total", "Outbox rows applied to the counts.")
TALLY_BATCH_SIZE = Histogram(
    "ballotline_tally_batch_size", "Outbox rows per applied batch.", buckets=(1, 5, 10, 50, 100, 250, 500, 1000, 5000)
)
TALLY_ERRORS = Counter("ballotline_tally_errors_total", "Tally loop iterations that failed (retried).", ["stage"])
OUTBOX_PENDING = Gauge(
    "ballotline_tally_outbox_pending", "Outbox rows waiting to be tallied (sampled).", multiprocess_mode="max"
)
SNAPSHOTS_PUBLISHED = Counter("ballotline_tally_snapshots_published_total", "Election snapshots published.")
PUBLISH_SECONDS = Histogram(
    "ballotline_tally_publish_seconds",
    "Time to build, check and publish one election's snapshots.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
INVARIANT_FAILURES = Counter(
    "ballotline_tally_invariant_failures_total", "Snapshots refused for publication because an invariant failed."
)
REDIS_REPAIRS = Counter("ballotline_tally_redis_repairs_total", "Snapshots re-published to Redis from Postgres.")
RECOUNTS = Counter("ballotline_tally_recounts_total", "Full recounts compared with the incremental counts.")
RECOUNT_MISMATCHES = Counter(
    "ballotline_tally_recount_mismatches_total", "Full recounts that disagreed with the incremental counts."
)
HELD_ELECTIONS = Gauge(
    "ballotline_tally_held_elections",
    "Elections whose outbox the tally cannot open (wrong or missing tally key): nothing of them is counted.",
    multiprocess_mode="max",
)
