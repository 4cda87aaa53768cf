"""Configuration from environment variables, read once at start-up.

Every variable is documented in the README. Services run in production unless
BALLOTLINE_ENV=development says otherwise (fail closed). `Secret` keeps secret values out of reprs,
logs and tracebacks.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping


class ConfigError(Exception):
    """A configuration value is missing or malformed; the process must not start."""


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


class Env:
    """Typed access to an environment mapping, naming the variable in every error."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._env = dict(os.environ if environ is None else environ)

    def str(self, name: str, default: str | None = None) -> str:
        value = self._env.get(name, default)
        if value is None:
            raise ConfigError(f"{name} is required")
        return value

    def optional(self, name: str) -> str | None:
        value = self._env.get(name)
        return value if value else None

    def int(self, name: str, default: int) -> int:
        raw = self._env.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be an integer, got {raw!r}") from None

    def float(self, name: str, default: float) -> float:
        raw = self._env.get(name)
        if raw is None or raw == "":
            return default
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, got {raw!r}") from None

    def bool(self, name: str, default: bool) -> bool:
        raw = self._env.get(name)
        if raw is None or raw == "":
            return default
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name} must be true or false, got {raw!r}")

    def list(self, name: str) -> list[str]:
        raw = self._env.get(name, "")
        return [item.strip() for item in raw.split(",") if item.strip()]

    def secret(self, name: str) -> Secret | None:
        value = self._env.get(name)
        return Secret(value) if value else None

    def key_material(self, name: str) -> tuple[str, bytes] | None:
        """A key from `<name>_FILE` (a path, read now) or `<name>` (the text), with the
        variable it came from; None when neither is set."""
        path = self.optional(f"{name}_FILE")
        if path:
            try:
                return f"{name}_FILE", Path(path).read_bytes()
            except OSError as exc:
                raise ConfigError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from None
        text = self.secret(name)
        return (name, text.reveal().encode()) if text else None


METRICS_PORT_OFFSET = 1000  # METRICS_PORT defaults to PORT + this


@dataclass(frozen=True)
class CommonSettings:
    """What every service reads: where it listens, what it talks to, how it logs."""

    environment: str  # "development" or "production"
    database_url: Secret
    redis_url: Secret
    host: str
    port: int
    log_level: str
    shutdown_timeout: float
    shutdown_drain: float  # seconds of Connection: close answers after SIGTERM, before the port closes
    metrics_host: str
    metrics_port: int  # 0: no metrics listener
    database_role: str | None = None  # None: the login user's own privileges

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, env: Env, *, default_port: int, default_role: str | None = None) -> "CommonSettings":
        # Fail closed: only an explicit BALLOTLINE_ENV=development (`ballotline up`, the
        # tests) turns on development endpoints, senders and generated secrets.
        environment = env.str("BALLOTLINE_ENV", "production")
        if environment not in ("development", "production"):
            raise ConfigError(f"BALLOTLINE_ENV must be development or production, got {environment!r}")
        port = env.int("PORT", default_port)
        metrics_port = env.int("METRICS_PORT", port + METRICS_PORT_OFFSET)
        if not 0 <= metrics_port <= 65535:
            raise ConfigError(f"METRICS_PORT must be between 0 (off) and 65535, got {metrics_port}")
        if metrics_port == port:
            raise ConfigError("METRICS_PORT must differ from PORT: /metrics is not served on the public port")
        return cls(
            environment=environment,
            database_url=Secret(env.str("DATABASE_URL")),
            redis_url=Secret(env.str("REDIS_URL")),
            host=env.str("HOST", "127.0.0.1"),
            port=port,
            log_level=env.str("LOG_LEVEL", "INFO").upper(),
            shutdown_timeout=env.float("SHUTDOWN_TIMEOUT", 10.0),
            shutdown_drain=env.float("SHUTDOWN_DRAIN", 1.0),
            metrics_host=env.str("METRICS_HOST", "127.0.0.1"),
            metrics_port=metrics_port,
            database_role=env.str("DATABASE_ROLE", default_role or "").strip() or None,
        )
