"""Verify the published hash chain: each stored snapshot matches its digest, and its
digest covers the digest of the snapshot published before it in the same scope. Pure."""
from __future__ import annotations

from collections.abc import Iterable

import msgspec

from .snapshot import digest_of

_decoder = msgspec.json.Decoder()


def chain_problems(rows: Iterable[tuple[str, int, str, str | None, str]]) -> list[str]:
    """rows: (scope, version, digest, previous_digest, body JSON) ordered by scope, version."""
    problems, previous = [], {}
    for scope, version, digest, previous_digest, body in rows:
        snapshot = _decoder.decode(body)
        where = f"{scope or 'total'} v{version}"
        if snapshot.get("digest") != digest or digest_of(snapshot) != digest:
            problems.append(f"{where}: body does not match its digest")
        if previous_digest != previous.get(scope) or snapshot.get("previous_digest") != previous_digest:
            problems.append(f"{where}: previous digest does not link to the snapshot before it")
        previous[scope] = digest
    return problems
