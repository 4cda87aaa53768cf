"""What the deploy files are checked against: the environment variables the services
really read, and loading a service's settings from a deploy file's environment."""
from __future__ import annotations

import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from services.common.settings import Env

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# Announced by work in progress elsewhere: DATABASE_ROLE (the services' Postgres group
# roles), METRICS_HOST / METRICS_PORT (the internal metrics listener). The deploy files set
# them already; code that does not read them yet ignores them.
PENDING = {"DATABASE_ROLE", "METRICS_HOST", "METRICS_PORT"}


def variables_the_services_read() -> set[str]:
    """Every upper-case name quoted in services/ (Env lookups, os.environ), plus the names
    built from a prefix: `<NAME>_FILE` signing keys and AUTH_RATE_*_WINDOW limits."""
    names: set[str] = set()
    for path in (ROOT / "services").rglob("*.py"):
        text = path.read_text()
        names.update(re.findall(r"[\"']([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{4,})[\"']", text))
        for key in re.findall(r"load_private_key\(env, \"([A-Z_]+)\"\)", text):
            names.add(key + "_FILE")
        for limit in re.findall(r"_limit\(env, \"([a-z_]+)\"", text):
            names.update({f"AUTH_RATE_{limit.upper()}", f"AUTH_RATE_{limit.upper()}_WINDOW"})
    return names | PENDING


def interpolate(value: str, values: dict[str, str]) -> str:
    """Compose-style `${NAME}`, `${NAME:-default}`, `${NAME:?error}`."""

    def one(match: re.Match) -> str:
        name, op, rest = match.group(1), match.group(2), match.group(3)
        if name in values:
            return values[name]
        if op == ":-":
            return rest
        return f"test-{name.lower()}-" + "x" * 32  # a required secret: any long value

    return re.sub(r"\$\{([A-Z_]+)(?:(:-|:\?)([^}]*))?\}", one, value)


def example_values(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an env example file (comments and blanks skipped)."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def signing_key_pem() -> str:
    return Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


def load_service_settings(service: str, environment: dict[str, str]):
    """The settings `ballotline serve SERVICE` would load from `environment`."""
    from services.common.serve import app_module

    return app_module(service).load_settings(Env(environment))
