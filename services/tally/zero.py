"""The zero snapshots of an election nothing was published for yet: real zeros and real
eligible counts, version 0. The read side serves them (without an ETag) until the tally
publishes version 1."""
from __future__ import annotations

from datetime import datetime, timezone

import asyncpg

from services.common.election import Election

from .counts import Tally
from .snapshot import build, content_key, encode
from .snapshots_db import TOTAL
from .tally_db import read_eligible


async def zero_snapshots(conn: asyncpg.Connection, election: Election) -> tuple[dict[str, bytes], str]:
    """({scope: encoded zero snapshot}, the content key of the total)."""
    now = datetime.now(timezone.utc)
    eligible = await read_eligible(conn, election.election_id)
    common = dict(tally=Tally(), eligible=eligible, status=election.status(now), version=0, as_of=now)
    total = build(election.definition, **common)
    bodies = {TOTAL: encode(total)}
    for p in election.definition.precincts:
        bodies[p.precinct_id] = encode(build(election.definition, precinct_id=p.precinct_id, **common))
    return bodies, content_key(total)
