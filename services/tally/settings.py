"""Configuration of the tally, read once at start-up (inside the results service with
RESULTS_RUN_TALLY, or `ballotline tally run`).

| variable                   | default        | meaning |
|----------------------------|----------------|---------|
| TALLY_BATCH_SIZE           | 500            | outbox rows per transaction |
| TALLY_INTERVAL_MS          | 100            | idle wait between outbox polls |
| TALLY_PUBLISH_INTERVAL_MS  | 250            | least time between two publications of an election |
| TALLY_SWEEP_INTERVAL       | 1.0            | seconds between sweeps: status changes, Redis repair, lag gauge |
| TALLY_RECOUNT_INTERVAL     | 60             | seconds between full recounts (0 = never) |
| TALLY_PRIVATE_KEY_FILE     | (required)     | PEM file of the tally's X25519 private key(s): the current one and any being rotated out (or TALLY_PRIVATE_KEY, the PEM text) |
| TALLY_DATABASE_ROLE        | ballotline_tally | Postgres role of the tally's own pool (empty: the login user) |
"""
from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from services.common import roles
from services.common.sealed_box import load_private_keys
from services.common.settings import ConfigError, Env


@dataclass(frozen=True)
class TallySettings:
    batch_size: int = 500
    interval: float = 0.1
    publish_interval: float = 0.25
    sweep_interval: float = 1.0
    recount_interval: float = 60.0
    keys: tuple[X25519PrivateKey, ...] = ()  # opens the sealed outbox; required to run
    database_role: str | None = roles.TALLY

    def require_keys(self) -> None:
        if not self.keys:
            raise ConfigError("TALLY_PRIVATE_KEY_FILE (or TALLY_PRIVATE_KEY) is required to run the tally")

    @classmethod
    def from_env(cls, env: Env) -> "TallySettings":
        settings = cls(
            batch_size=env.int("TALLY_BATCH_SIZE", 500),
            interval=env.int("TALLY_INTERVAL_MS", 100) / 1000,
            publish_interval=env.int("TALLY_PUBLISH_INTERVAL_MS", 250) / 1000,
            sweep_interval=env.float("TALLY_SWEEP_INTERVAL", 1.0),
            recount_interval=env.float("TALLY_RECOUNT_INTERVAL", 60.0),
            keys=tuple(load_private_keys(env, "TALLY_PRIVATE_KEY")),
            database_role=roles.database_role(env, roles.TALLY, "TALLY_DATABASE_ROLE"),
        )
        if settings.batch_size < 1:
            raise ConfigError("TALLY_BATCH_SIZE must be at least 1")
        if settings.sweep_interval <= 0:
            raise ConfigError("TALLY_SWEEP_INTERVAL must be positive")
        return settings
