"""Configuration from environment variables, read once at start-up.

Every variable is documented in the README. `Secret` keeps secret values out of reprs,
logs and tracebacks.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
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
    database_role: str | None = None  # None: the login user's own privileges


    @property
    def production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, env: Env, *, default_port: int, default_role: str | None = None) -> "CommonSettings":
        environment = env.str("BALLOTLINE_ENV", "development")
        if environment not in ("development", "production"):
            raise ConfigError(f"BALLOTLINE_ENV must be development or production, got {environment!r}")
        return cls(
            environment=environment,
            database_url=Secret(env.str("DATABASE_URL")),
            redis_url=Secret(env.str("REDIS_URL")),
            host=env.str("HOST", "127.0.0.1"),
            port=env.int("PORT", default_port),
            log_level=env.str("LOG_LEVEL", "INFO").upper(),
            shutdown_timeout=env.float("SHUTDOWN_TIMEOUT", 10.0),
            database_role=env.str("DATABASE_ROLE", default_role or "").strip() or None,
        )
