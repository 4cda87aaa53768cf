"""The voter roll, read from Postgres (the roll is too large to hold in memory)."""
from __future__ import annotations

from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class VoterRecord:
    voter_id: str
    precinct_id: str
    phone: str | None
    public_key: bytes | None
    handle: str  # pseudonymous and random: the token's `sub`


class VoterRoll:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def find(self, election_id: str, voter_id: str) -> VoterRecord | None:
        row = await self._pool.fetchrow(
            "SELECT precinct_id, phone, public_key, handle FROM voters WHERE election_id = $1 AND voter_id = $2",
            election_id,
            voter_id,
        )
        if row is None:
            return None
        key = bytes(row["public_key"]) if row["public_key"] is not None else None
        return VoterRecord(voter_id, row["precinct_id"], row["phone"] or None, key, row["handle"])
