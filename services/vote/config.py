"""The vote service's settings, read once from the environment (README "Configuration")."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from services.common import roles
from services.common.client_address import IPNetwork, trusted_proxies
from services.common.sealed_box import load_public_key
from services.common.settings import CommonSettings, ConfigError, Env, Secret
from services.common.signing_keys import load_private_key

log = logging.getLogger(__name__)
DEFAULT_JWKS_URL = "http://127.0.0.1:8001/.well-known/jwks.json"


@dataclass(frozen=True)
class VoteSettings:
    common: CommonSettings
    secret_key: Secret | None  # None: development, an ephemeral secret is generated
    signing_key: Ed25519PrivateKey | None  # None: development, an ephemeral key is generated
    tally_public_key: X25519PublicKey  # ballots are sealed to it; only the tally can open them
    trusted_proxies: tuple[IPNetwork, ...]  # whose X-Forwarded-For is believed
    jwks_url: str
    token_issuer: str
    jwks_refresh_seconds: float
    jwks_min_refetch_seconds: float
    batch_max: int
    batch_wait_ms: float
    batch_flushers: int
    queue_max: int
    pg_pool_size: int
    catalog_poll_seconds: float
    cleanup_interval_seconds: float


def _positive(name: str, value: float) -> float:
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


def load_settings(env: Env, *, default_port: int = 8002) -> VoteSettings:
    common = CommonSettings.from_env(env, default_port=default_port, default_role=roles.VOTE)
    secret_key = env.secret("VOTE_SECRET_KEY")
    signing_key = load_private_key(env, "VOTE_SIGNING_KEY")
    if common.production and not (secret_key and signing_key):
        raise ConfigError("VOTE_SECRET_KEY and VOTE_SIGNING_KEY_FILE (or VOTE_SIGNING_KEY) are required in production")
    if secret_key and len(secret_key.reveal()) < 32:
        raise ConfigError("VOTE_SECRET_KEY must be at least 32 characters")
    tally_public_key = load_public_key(env, "TALLY_PUBLIC_KEY")
    if tally_public_key is None:  # in every mode: an ephemeral key would make ballots nobody can count
        raise ConfigError("TALLY_PUBLIC_KEY_FILE (or TALLY_PUBLIC_KEY) is required: ballots are sealed to the tally key")
    return VoteSettings(
        common=common,
        secret_key=secret_key,
        signing_key=signing_key,
        tally_public_key=tally_public_key,
        trusted_proxies=trusted_proxies("VOTE_TRUSTED_PROXIES", env.list("VOTE_TRUSTED_PROXIES")),
        jwks_url=env.str("VOTE_JWKS_URL", DEFAULT_JWKS_URL),
        token_issuer=env.str("VOTE_TOKEN_ISSUER", "ballotline-auth"),
        jwks_refresh_seconds=_positive("VOTE_JWKS_REFRESH_SECONDS", env.float("VOTE_JWKS_REFRESH_SECONDS", 300.0)),
        jwks_min_refetch_seconds=env.float("VOTE_JWKS_MIN_REFETCH_SECONDS", 5.0),
        batch_max=int(_positive("VOTE_BATCH_MAX", env.int("VOTE_BATCH_MAX", 200))),
        batch_wait_ms=env.float("VOTE_BATCH_WAIT_MS", 2.0),
        batch_flushers=int(_positive("VOTE_BATCH_FLUSHERS", env.int("VOTE_BATCH_FLUSHERS", 2))),
        queue_max=int(_positive("VOTE_QUEUE_MAX", env.int("VOTE_QUEUE_MAX", 2000))),
        pg_pool_size=int(_positive("VOTE_PG_POOL_SIZE", env.int("VOTE_PG_POOL_SIZE", 8))),
        catalog_poll_seconds=_positive("VOTE_CATALOG_POLL_SECONDS", env.float("VOTE_CATALOG_POLL_SECONDS", 1.0)),
        cleanup_interval_seconds=_positive(
            "VOTE_IDEMPOTENCY_CLEANUP_SECONDS", env.float("VOTE_IDEMPOTENCY_CLEANUP_SECONDS", 600.0)
        ),
    )
