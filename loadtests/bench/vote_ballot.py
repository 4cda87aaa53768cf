"""The vote benchmark's election and the one ballot every voter casts, as a body and as a
raw HTTP/1.1 request."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import msgspec

from services.common.election import Contest, ElectionDefinition, Option, Precinct

SECRET = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
SELECTIONS = {"mayor": ["alice"], "council": ["green", "red"]}
BODY = msgspec.json.encode({"selections": SELECTIONS})
PATH = "/v1/elections/bench/ballots"


def definition() -> ElectionDefinition:
    opens = datetime.now(timezone.utc) - timedelta(hours=1)
    return ElectionDefinition(
        election_id="bench", title="Vote benchmark", opens_at=opens, closes_at=opens + timedelta(days=1),
        contests=[
            Contest("mayor", "Mayor", [Option(o, o) for o in ("alice", "bob", "carol")]),
            Contest("council", "Council", [Option(o, o) for o in ("green", "blue", "red", "gold")], max_choices=2),
        ],
        precincts=[Precinct(f"p{i:02d}", f"Precinct {i}") for i in range(20)],
    )


def raw_request(token: str) -> bytes:
    return (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Idempotency-Key: {uuid.uuid4().hex}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(BODY)}\r\n\r\n").encode() + BODY
