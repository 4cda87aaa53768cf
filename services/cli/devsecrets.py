"""Development secrets for `ballotline up`: generated once into the data folder (mode
0600) and reused, so tokens, receipts, encrypted participation data and the sealed
outbox stay valid across restarts. Production supplies its own through the environment (README)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.sealed_box import generate_pem


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _ensure_key(path: Path) -> Path:
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _write_private(path, pem)
    return path


def _ensure_tally_pair(directory: Path) -> tuple[Path, Path]:
    """The tally's X25519 pair: vote gets the public half, the tally the private one."""
    private, public = directory / "tally-private-key.pem", directory / "tally-public-key.pem"
    if not private.exists() or not public.exists():
        private_pem, public_pem = generate_pem()
        private.unlink(missing_ok=True)
        public.unlink(missing_ok=True)
        _write_private(private, private_pem)
        _write_private(public, public_pem)
    return private, public


def _ensure_secret(path: Path) -> str:
    if not path.exists():
        _write_private(path, secrets.token_urlsafe(48).encode())
    return path.read_text().strip()


def ensure_dev_secrets(directory: Path) -> dict[str, str]:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    tally_private, tally_public = _ensure_tally_pair(directory)
    return {
        "TALLY_PRIVATE_KEY_FILE": str(tally_private),
        "TALLY_PUBLIC_KEY_FILE": str(tally_public),
        "AUTH_SECRET_KEY": _ensure_secret(directory / "auth-secret-key"),
        "VOTE_SECRET_KEY": _ensure_secret(directory / "vote-secret-key"),
        "AUTH_SIGNING_KEY_FILE": str(_ensure_key(directory / "auth-signing-key.pem")),
        "VOTE_SIGNING_KEY_FILE": str(_ensure_key(directory / "vote-signing-key.pem")),
    }
