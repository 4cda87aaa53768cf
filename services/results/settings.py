"""Configuration of the results service and the tally worker, read once at start-up.

| variable                   | default        | meaning |
|----------------------------|----------------|---------|
| PORT                       | 8003           | HTTP port |
| HOST                       | 127.0.0.1      | listen address |
| DATABASE_URL               | (required)     | Postgres (the embedded one when started by `ballotline up`) |
| REDIS_URL                  | (required)     | Redis (snapshots, pub/sub) |
| BALLOTLINE_ENV             | production     | production, or development (`ballotline up`) |
| METRICS_HOST               | 127.0.0.1      | internal /metrics listener address |
| METRICS_PORT               | PORT + 1000    | internal /metrics listener port; 0 = off |
| LOG_LEVEL                  | INFO           | |
| SHUTDOWN_TIMEOUT           | 10             | seconds to finish requests on SIGTERM |
| RESULTS_RUN_TALLY          | true           | run the tally worker inside this process (TALLY_*: services/tally/settings.py) |
| RESULTS_CACHE_MAX_AGE      | 1              | Cache-Control max-age of results (seconds) |
| RESULTS_CACHE_SWR          | 5              | stale-while-revalidate |
| RESULTS_CACHE_SIE          | 60             | stale-if-error |
| RESULTS_POLL_INTERVAL      | 1.0            | seconds between Redis polls (the pub/sub fallback) |
| RESULTS_STREAM_HEARTBEAT   | 15             | seconds between SSE heartbeat comments |
| RESULTS_RECEIPT_CONCURRENCY| 32             | receipt lookups in flight per process; past it 503 |
| RESULTS_PG_POOL_SIZE       | 10             | Postgres connections per process |
"""
from __future__ import annotations

from dataclasses import dataclass

from services.common import roles
from services.common.settings import CommonSettings, ConfigError, Env
from services.tally.settings import TallySettings

DEFAULT_PORT = 8003


@dataclass(frozen=True)
class ResultsSettings:
    common: CommonSettings
    tally: TallySettings
    run_tally: bool = True
    cache_control: str = "public, max-age=1, stale-while-revalidate=5, stale-if-error=60"
    poll_interval: float = 1.0
    heartbeat: float = 15.0
    receipt_concurrency: int = 32
    pg_pool_size: int = 10


def load_settings(env: Env) -> ResultsSettings:
    max_age = env.int("RESULTS_CACHE_MAX_AGE", 1)
    swr = env.int("RESULTS_CACHE_SWR", 5)
    sie = env.int("RESULTS_CACHE_SIE", 60)
    if min(max_age, swr, sie) < 0:
        raise ConfigError("RESULTS_CACHE_* must not be negative")
    tally, run_tally = TallySettings.from_env(env), env.bool("RESULTS_RUN_TALLY", True)
    if run_tally:
        tally.require_keys()
    return ResultsSettings(
        common=CommonSettings.from_env(env, default_port=DEFAULT_PORT, default_role=roles.RESULTS),
        tally=tally,
        run_tally=run_tally,
        cache_control=f"public, max-age={max_age}, stale-while-revalidate={swr}, stale-if-error={sie}",
        poll_interval=env.float("RESULTS_POLL_INTERVAL", 1.0),
        heartbeat=env.float("RESULTS_STREAM_HEARTBEAT", 15.0),
        receipt_concurrency=env.int("RESULTS_RECEIPT_CONCURRENCY", 32),
        pg_pool_size=env.int("RESULTS_PG_POOL_SIZE", 10),
    )
