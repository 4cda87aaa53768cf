"""The publisher reads every count of a snapshot from one database snapshot, so a tally
batch committing while it reads cannot make it build (and then refuse) mixed counts."""
from __future__ import annotations

import random

from services.common.sealed_box import Opener
from services.tally import publisher, tally_db
from services.tally.metrics import INVARIANT_FAILURES
from tests.tally_keys import KEYS

from .ballots import cast, random_selections

OPENER = Opener(list(KEYS))


async def test_a_batch_committed_between_the_publishers_reads_does_not_mix_into_its_snapshot(
    pool, redis, election, catalog, monkeypatch
):
    rng = random.Random(7)
    for i in range(40):
        await cast(pool, election, "p1" if i % 2 else "p2", random_selections(election, rng))
    assert (await tally_db.apply_batch(pool, 20, OPENER)).rows == 20
    real_read_tally = tally_db.read_tally

    async def read_tally_while_a_batch_commits(conn, election_id):
        class Racing:  # the other 20 ballots are tallied right after the first count query
            calls = 0

            async def fetch(self, *args):
                rows = await conn.fetch(*args)
                Racing.calls += 1
                if Racing.calls == 1:
                    await tally_db.apply_batch(pool, 100, OPENER)
                return rows

        return await real_read_tally(Racing(), election_id)

    monkeypatch.setattr(tally_db, "read_tally", read_tally_while_a_batch_commits)
    failures_before = INVARIANT_FAILURES._value.get()
    publication = await publisher.publish(pool, redis, catalog.get(election.election_id))

    assert INVARIANT_FAILURES._value.get() == failures_before
    assert publication is not None
    assert await pool.fetchval("SELECT count(*) FROM tally_outbox") == 0  # the racing batch did commit
    total = await pool.fetchval(
        "SELECT body->'turnout'->>'voted' FROM results_snapshots WHERE election_id = $1 AND scope = ''"
        " ORDER BY version DESC LIMIT 1",
        election.election_id,
    )
    assert total == "20"  # what the snapshot's moment saw, consistently
