"""Who a simulated voter is: a roll entry no other load process will use, its signing
key (every 10th roll voter has one, derived like the demo's), and a client address for
X-Forwarded-For (from 198.18.0.0/15, the benchmarking range: a header value, never a
destination), so per-address rate limits see a crowd rather than one load generator.
"""
from __future__ import annotations

import base64
import hashlib
import itertools
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

_addresses = itertools.count()


def private_key(voter_id: str) -> Ed25519PrivateKey:
    """Same derivation as services/cli/demo.py's demo_private_key (a public seed)."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"ballotline-demo-key:" + voter_id.encode()).digest())


def public_key_b64(voter_id: str) -> str:
    raw = private_key(voter_id).public_key().public_bytes_raw()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sign_login(election_id: str, voter_id: str, nonce: str) -> str:
    message = f"ballotline-login:{election_id}:{voter_id}:{nonce}".encode()
    return base64.urlsafe_b64encode(private_key(voter_id).sign(message)).rstrip(b"=").decode()


def has_key(number: int) -> bool:
    return number % 10 == 0


def client_address(worker_index: int) -> str:
    n = next(_addresses) + worker_index * 1_000_003
    n %= 2**17 - 2
    n += 1
    return f"198.{18 + (n >> 16)}.{(n >> 8) & 255}.{n & 255}"


@dataclass
class RollSlice:
    """Voter numbers first..last of one roll, split in keyed (n % 10 == 0) and unkeyed
    numbers, handed out once each."""

    first: int
    last: int

    def __post_init__(self) -> None:
        self._keyed = (n for n in range(self.first, self.last + 1) if has_key(n))
        self._plain = (n for n in range(self.first, self.last + 1) if not has_key(n))

    def take(self, keyed: bool) -> int | None:
        return next(self._keyed if keyed else self._plain, None)


def slice_for(roll_size: int, worker_index: int, workers: int) -> RollSlice:
    size = roll_size // max(1, workers)
    first = 1 + worker_index * size
    return RollSlice(first, roll_size if worker_index == workers - 1 else first + size - 1)


def voter_id(prefix: str, digits: int, number: int) -> str:
    return f"{prefix}{number:0{digits}d}"
