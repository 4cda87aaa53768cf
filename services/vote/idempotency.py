"""Idempotency-Key rules and in-flight detection.

A request is in flight from the moment it is accepted until its batch commits or fails.
Inside one process the `InFlight` set answers a concurrent same-key request at once with
`409 request_in_progress`. Across processes the idempotency row, inserted first in the
ballot transaction, is the lock: a second transaction inserting the same scope waits for
the first to commit and then replays its answer. No "in flight" state is ever committed,
so a crash mid-request leaves nothing behind and the client's retry simply runs again.
"""
from __future__ import annotations

import re

from .errors import IdempotencyKeyInvalid, RequestInProgress

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def check_key(value: str | None) -> str:
    if value is None or not _KEY.match(value):
        raise IdempotencyKeyInvalid("Idempotency-Key must be 1..255 visible ASCII characters")
    return value


class InFlight:
    def __init__(self) -> None:
        self._scopes: set[bytes] = set()

    def enter(self, scope: bytes) -> None:
        if scope in self._scopes:
            raise RequestInProgress("a request with this Idempotency-Key is still being processed", retry_after=1)
        self._scopes.add(scope)

    def leave(self, scope: bytes) -> None:
        self._scopes.discard(scope)

    def __len__(self) -> int:
        return len(self._scopes)
