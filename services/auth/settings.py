"""The auth service's configuration, read once from the environment.

Variables (defaults in brackets):

- ``PORT`` [8001], ``HOST`` [127.0.0.1], ``DATABASE_URL``, ``REDIS_URL``,
  ``BALLOTLINE_ENV`` [production; or development, which `ballotline up` sets],
  ``LOG_LEVEL`` [INFO], ``SHUTDOWN_TIMEOUT`` [10], ``METRICS_HOST`` [127.0.0.1],
  ``METRICS_PORT`` [PORT + 1000; 0 = off]: shared by every service (services.common.settings).
- ``AUTH_SECRET_KEY``: at least 32 characters. Keys the one-time code hashes, the
  pseudonyms in logs and the per-voter rate-limit keys. Required in production; in
  development a random key is generated once per Redis and shared by every worker
  (with a warning).
- ``AUTH_SIGNING_KEY_FILE``: path to a PEM (PKCS#8) Ed25519 private key that signs
  access tokens. ``AUTH_SIGNING_KEY``: the same PEM as text (used when no file is named).
  One of them is required in production; in development a key is generated once per
  Redis and shared by every worker (with a warning). Its public half is published at /.well-known/jwks.json.
- ``AUTH_ISSUER`` [ballotline-auth]: the tokens' ``iss``.
- ``AUTH_TOKEN_TTL`` [600]: access-token lifetime in seconds, 1..900.
- ``AUTH_OTP_TTL`` [300]: lifetime of a login challenge (code or nonce), 1..300 seconds.
- ``AUTH_SMS_SENDER`` [outbox in development, webhook in production]: ``outbox`` (keeps
  the last code per voter in Redis for GET /v1/dev/outbox/...; development, tests, load
  tests), ``console`` (logs the code; development only) or ``webhook`` (production).
  Production refuses any sender but ``webhook``.
- ``AUTH_SMS_WEBHOOK_URL``: the SMS gateway; required by the webhook sender. It receives
  ``POST {"to": phone, "message": text}`` as JSON.
- ``AUTH_SMS_WEBHOOK_TOKEN``: sent as ``Authorization: Bearer ...`` when set.
- ``AUTH_SMS_WEBHOOK_TIMEOUT`` [5]: seconds per attempt.
- ``AUTH_SMS_WEBHOOK_RETRIES`` [3]: further attempts after a failed one (network error,
  timeout, 429 or 5xx), with exponential backoff from ``AUTH_SMS_WEBHOOK_BACKOFF`` [0.5] s.
- ``AUTH_TRUSTED_PROXIES`` [none]: comma-separated IPs/CIDRs of reverse proxies whose
  ``X-Forwarded-For`` is believed; the client is the right-most untrusted address.
- Rate limits (sliding windows in Redis; a limit of 0 disables it):
  ``AUTH_RATE_CHALLENGE_PER_VOTER`` [3] per ``AUTH_RATE_CHALLENGE_PER_VOTER_WINDOW`` [600] s
  (code or signature challenges for one voter of one election, per method);
  ``AUTH_RATE_CHALLENGE_PER_ADDRESS`` [30] per ``AUTH_RATE_CHALLENGE_PER_ADDRESS_WINDOW`` [60] s;
  ``AUTH_RATE_VERIFY_PER_ADDRESS`` [60] per ``AUTH_RATE_VERIFY_PER_ADDRESS_WINDOW`` [60] s.
"""
from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common import roles
from services.common.client_address import IPNetwork, trusted_proxies
from services.common.settings import CommonSettings, ConfigError, Env, Secret
from services.common.signing_keys import load_private_key

MAX_TOKEN_TTL = 900
MAX_OTP_TTL = 300
SENDERS = ("outbox", "console", "webhook")


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int  # 0 = disabled
    window: int  # seconds


@dataclass(frozen=True)
class RateLimits:
    challenge_per_voter: Limit
    challenge_per_address: Limit
    verify_per_address: Limit


@dataclass(frozen=True)
class WebhookSettings:
    url: str
    token: Secret | None
    timeout: float
    retries: int
    backoff: float


@dataclass(frozen=True)
class AuthSettings:
    common: CommonSettings
    secret_key: Secret | None  # None: development, generated and shared through Redis
    signing_key: Ed25519PrivateKey | None  # None: development, generated once per Redis
    issuer: str
    token_ttl: int
    otp_ttl: int
    sender: str
    webhook: WebhookSettings | None
    trusted_proxies: tuple[IPNetwork, ...]
    rates: RateLimits
    max_attempts: int = 5  # API.md: the 5th wrong answer burns the challenge


def load_settings(env: Env) -> AuthSettings:
    common = CommonSettings.from_env(env, default_port=8001, default_role=roles.AUTH)
    production = common.production
    secret_key = env.secret("AUTH_SECRET_KEY")
    if secret_key is not None and len(secret_key.reveal()) < 32:
        raise ConfigError("AUTH_SECRET_KEY must be at least 32 characters")
    if production and secret_key is None:
        raise ConfigError("AUTH_SECRET_KEY is required in production")
    signing_key = load_private_key(env, "AUTH_SIGNING_KEY")
    if production and signing_key is None:
        raise ConfigError("AUTH_SIGNING_KEY_FILE or AUTH_SIGNING_KEY is required in production")
    sender = env.str("AUTH_SMS_SENDER", "webhook" if production else "outbox")
    if sender not in SENDERS:
        raise ConfigError(f"AUTH_SMS_SENDER must be one of {', '.join(SENDERS)}, got {sender!r}")
    if production and sender != "webhook":
        raise ConfigError(f"AUTH_SMS_SENDER={sender} is for development only; production needs webhook")
    return AuthSettings(
        common=common,
        secret_key=secret_key,
        signing_key=signing_key,
        issuer=env.str("AUTH_ISSUER", "ballotline-auth"),
        token_ttl=_bounded(env, "AUTH_TOKEN_TTL", 600, MAX_TOKEN_TTL),
        otp_ttl=_bounded(env, "AUTH_OTP_TTL", 300, MAX_OTP_TTL),
        sender=sender,
        webhook=_webhook(env) if sender == "webhook" else None,
        trusted_proxies=trusted_proxies("AUTH_TRUSTED_PROXIES", env.list("AUTH_TRUSTED_PROXIES")),
        rates=RateLimits(
            challenge_per_voter=_limit(env, "challenge_per_voter", 3, 600),
            challenge_per_address=_limit(env, "challenge_per_address", 30, 60),
            verify_per_address=_limit(env, "verify_per_address", 60, 60),
        ),
    )


def _bounded(env: Env, name: str, default: int, maximum: int) -> int:
    value = env.int(name, default)
    if not 1 <= value <= maximum:
        raise ConfigError(f"{name} must be between 1 and {maximum} seconds, got {value}")
    return value


def _webhook(env: Env) -> WebhookSettings:
    url = env.optional("AUTH_SMS_WEBHOOK_URL")
    if not url or not url.startswith(("http://", "https://")):
        raise ConfigError("AUTH_SMS_WEBHOOK_URL must be an http(s) URL when AUTH_SMS_SENDER=webhook")
    retries = env.int("AUTH_SMS_WEBHOOK_RETRIES", 3)
    timeout = env.float("AUTH_SMS_WEBHOOK_TIMEOUT", 5.0)
    backoff = env.float("AUTH_SMS_WEBHOOK_BACKOFF", 0.5)
    if retries < 0 or timeout <= 0 or backoff < 0:
        raise ConfigError("AUTH_SMS_WEBHOOK_RETRIES/_TIMEOUT/_BACKOFF must not be negative")
    return WebhookSettings(url, env.secret("AUTH_SMS_WEBHOOK_TOKEN"), timeout, retries, backoff)


def _limit(env: Env, name: str, limit: int, window: int) -> Limit:
    var = "AUTH_RATE_" + name.upper()
    value = Limit(name, env.int(var, limit), env.int(var + "_WINDOW", window))
    if value.limit < 0 or value.window < 1:
        raise ConfigError(f"{var} must be >= 0 and {var}_WINDOW >= 1")
    return value
