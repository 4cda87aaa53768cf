"""Sealing to the tally key: what the vote service writes into the outbox can only be
opened by the tally (ARCHITECTURE.md "Secrecy, deeper").

Hybrid encryption, the shape of HPKE base mode (RFC 9180) with X25519, HKDF-SHA256 and
AES-256-GCM: the writer makes one ephemeral X25519 key per batch, derives a content key
from its exchange with the tally's public key, and seals each message with a fresh
nonce. A sealed value is

    version (1 byte, 1) || key id (8 bytes) || ephemeral public key (32) || nonce (12) || ciphertext+tag

The key id is the first 8 bytes of SHA-256 of the tally public key: the tally finds the
private key among its current and previous ones (rotation, README "Keys"). Associated
data (the election id) binds a sealed value to its row.

Keys are PEM: `<NAME>_FILE` (a path) or `<NAME>` (the text). A private-key file may hold
several PEM blocks (the current key and those being rotated out).
"""
from __future__ import annotations

import hashlib
import os
import re
from collections import OrderedDict

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .settings import ConfigError, Env

VERSION = 1
_HEADER = 1 + 8 + 32
_NONCE = 12
_INFO = b"ballotline tally outbox v1"
_PEM_BLOCK = re.compile(rb"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.S)


class SealError(Exception):
    """A sealed value that cannot be opened: unknown key, wrong version, tampered."""


def _raw(public: X25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: X25519PublicKey) -> bytes:
    return hashlib.sha256(_raw(public)).digest()[:8]


def _content_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> AESGCM:
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient, info=_INFO)
    return AESGCM(kdf.derive(shared))


class BatchSealer:
    """Seals the messages of one batch under one ephemeral key."""

    def __init__(self, recipient: X25519PublicKey) -> None:
        ephemeral = X25519PrivateKey.generate()
        ephemeral_raw = _raw(ephemeral.public_key())
        self._header = bytes([VERSION]) + key_id(recipient) + ephemeral_raw
        self._aead = _content_key(ephemeral.exchange(recipient), ephemeral_raw, _raw(recipient))

    def seal(self, plaintext: bytes, associated: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return self._header + nonce + self._aead.encrypt(nonce, plaintext, associated)


class Sealer:
    """The writer's side: knows only the tally's public key."""

    def __init__(self, recipient: X25519PublicKey) -> None:
        self.recipient = recipient

    def batch(self) -> BatchSealer:
        return BatchSealer(self.recipient)


class Opener:
    """The tally's side: every private key it may need, found by key id. Content keys
    are cached per ephemeral key (one exchange per vote batch, not per message)."""

    def __init__(self, keys: list[X25519PrivateKey], cache_size: int = 4096) -> None:
        if not keys:
            raise ValueError("at least one tally private key is needed")
        self._keys = {key_id(k.public_key()): k for k in keys}
        self._cache: OrderedDict[bytes, AESGCM] = OrderedDict()
        self._cache_size = cache_size

    @property
    def public_key(self) -> X25519PublicKey:
        """The first (current) key's public half."""
        return next(iter(self._keys.values())).public_key()

    def open(self, sealed: bytes, associated: bytes) -> bytes:
        if len(sealed) < _HEADER + _NONCE + 16 or sealed[0] != VERSION:
            raise SealError("not a sealed value of a known version")
        header = sealed[:_HEADER]
        aead = self._cache.get(header)
        if aead is None:
            key = self._keys.get(header[1:9])
            if key is None:
                raise SealError(f"sealed to an unknown tally key {header[1:9].hex()}")
            ephemeral = header[9:]
            try:
                shared = key.exchange(X25519PublicKey.from_public_bytes(ephemeral))
            except ValueError:
                raise SealError("the ephemeral key is not valid") from None
            aead = _content_key(shared, ephemeral, _raw(key.public_key()))
            self._cache[header] = aead
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(header)
        try:
            return aead.decrypt(sealed[_HEADER : _HEADER + _NONCE], sealed[_HEADER + _NONCE :], associated)
        except InvalidTag:
            raise SealError("the sealed value was altered or sealed for another row") from None


def generate_pem() -> tuple[bytes, bytes]:
    """A new key pair as (private PEM, public PEM)."""
    key = X25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def load_public_key(env: Env, name: str) -> X25519PublicKey | None:
    found = env.key_material(name)
    if found is None:
        return None
    source, pem = found
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        raise ConfigError(f"{source} is not a PEM public key") from None
    if not isinstance(key, X25519PublicKey):
        raise ConfigError(f"{source} must be an X25519 public key, got {type(key).__name__}")
    return key


def load_private_keys(env: Env, name: str) -> list[X25519PrivateKey]:
    found = env.key_material(name)
    if found is None:
        return []
    source, pem = found
    keys = []
    for block in _PEM_BLOCK.findall(pem):
        try:
            key = serialization.load_pem_private_key(block, password=None)
        except (ValueError, TypeError):
            raise ConfigError(f"{source} holds a block that is not an unencrypted PEM (PKCS#8) private key") from None
        if not isinstance(key, X25519PrivateKey):
            raise ConfigError(f"{source} must hold X25519 keys, got {type(key).__name__}")
        keys.append(key)
    if not keys:
        raise ConfigError(f"{source} holds no PEM private key")
    return keys
