"""The public audit log's hash chain (API.md "Operators and the public audit log"). Pure.

An entry is `{"seq", "at", "actor", "action", "reason", "details", "prev_hash", "hash"}`;
`hash` is "sha256:" + hex SHA-256 of the canonical JSON of the entry without "hash";
the first `prev_hash` is GENESIS and each later one the previous entry's `hash`. Both the
writer (services/common/audit_log.py) and every verifier (`ballotline audit verify`, the
tests) go through this module, so there is one definition of "intact".
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

GENESIS = "sha256:" + "0" * 64
FIELDS = ("seq", "at", "actor", "action", "reason", "details", "prev_hash")


def canonical(obj: Any) -> bytes:
    """API.md's canonical JSON: sorted keys, no insignificant whitespace, no NaN."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def format_at(at: datetime) -> str:
    """An entry's time as hashed and served: UTC, microseconds, a Z (Postgres keeps
    microseconds, so a time read back formats to the same string)."""
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(entry: Mapping[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(canonical({k: entry[k] for k in FIELDS})).hexdigest()


def next_entry(
    previous: Mapping[str, Any] | None,
    *,
    at: datetime,
    actor: str,
    action: str,
    reason: str | None,
    details: Mapping[str, Any],
) -> dict[str, Any]:
    """The entry that follows `previous` (None: the first of a chain), its hash included."""
    entry: dict[str, Any] = {
        "seq": previous["seq"] + 1 if previous else 1,
        "at": format_at(at),
        "actor": actor,
        "action": action,
        "reason": reason,
        "details": dict(details),
        "prev_hash": previous["hash"] if previous else GENESIS,
    }
    entry["hash"] = entry_hash(entry)
    return entry


def first_broken(entries: Iterable[Mapping[str, Any]]) -> int | None:
    """The `seq` of the first entry that breaks the chain (numbering, link or hash), or
    None when the chain is intact. An entry that is missing breaks the one after the gap."""
    expected_seq, expected_prev = 1, GENESIS
    for entry in entries:
        seq = entry.get("seq")
        if seq != expected_seq:
            return expected_seq
        if entry.get("prev_hash") != expected_prev or entry.get("hash") != _hash_or_none(entry):
            return seq
        expected_seq, expected_prev = seq + 1, entry["hash"]
    return None


def _hash_or_none(entry: Mapping[str, Any]) -> str | None:
    try:
        return entry_hash(entry)
    except (KeyError, TypeError, ValueError):
        return None


def head(entries: list[Mapping[str, Any]]) -> str:
    """The chain's head: its last hash (GENESIS for a chain with no entry yet)."""
    return entries[-1]["hash"] if entries else GENESIS
