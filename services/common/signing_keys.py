"""Ed25519 signing keys as both signing services configure and publish them: loaded
from `<NAME>_FILE` (a path) or `<NAME>` (the PEM text), checked at start-up, and
published as an OKP JWK whose `kid` is its RFC 7638 thumbprint."""
from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .settings import ConfigError, Env


def load_private_key(env: Env, name: str) -> Ed25519PrivateKey | None:
    """The key named by `<name>_FILE` or `<name>`; None when neither is set."""
    found = env.key_material(name)
    return _parse(*found) if found else None


def _parse(name: str, pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise ConfigError(f"{name} is not an unencrypted PEM (PKCS#8) private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{name} must be an Ed25519 key, got {type(key).__name__}")
    return key


def thumbprint(jwk: Mapping[str, str]) -> str:
    """RFC 7638 thumbprint of an OKP key: SHA-256 of its required members, sorted, no spaces."""
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x")}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}
    return {**jwk, "kid": thumbprint(jwk), "alg": "EdDSA", "use": "sig"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
