"""Publication: versioned, chained, checked snapshots in Postgres and Redis."""
from __future__ import annotations

import logging

import msgspec
from prometheus_client import REGISTRY

from services.tally import redis_store, snapshots_db
from services.tally.chain import chain_problems
from services.tally.publisher import publish
from services.tally.snapshot import digest_of
from tests.results.ballots import cast


def metric(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def test_an_election_gets_a_zero_snapshot_before_any_ballot(pool, redis, election, make_worker):
    await make_worker().drain()
    version, bodies = await redis_store.load(redis, election.election_id)
    total = msgspec.json.decode(bodies[""])
    assert version == 1 and total["version"] == 1
    assert total["turnout"] == {"eligible": 1200, "voted": 0, "percent": 0.0}
    assert all(o["votes"] == 0 and o["percent"] == 0 for c in total["contests"] for o in c["options"])
    assert set(bodies) == {"", "p1", "p2", "p9"}


async def test_unchanged_results_are_not_republished_and_changes_bump_the_version(pool, redis, election, make_worker):
    worker = make_worker()
    await worker.drain()
    await worker.drain()
    assert (await redis_store.load(redis, election.election_id))[0] == 1
    await cast(pool, election, "p2", {"mayor": ["bob"], "council": ["red"]})
    await worker.drain()
    version, bodies = await redis_store.load(redis, election.election_id)
    assert version == 2
    p1, p2 = msgspec.json.decode(bodies["p1"]), msgspec.json.decode(bodies["p2"])
    assert p1["version"] == 1 and p2["version"] == 2, "only the precinct that changed is republished"


async def test_published_snapshots_form_an_intact_hash_chain(pool, redis, election, make_worker):
    worker = make_worker()
    for i in range(3):
        await cast(pool, election, "p1", {"mayor": ["alice"], "council": []})
        await worker.drain()
    async with pool.acquire() as conn:
        rows = [tuple(r) for r in await snapshots_db.chain(conn, election.election_id)]
    totals = [r for r in rows if r[0] == ""]
    assert [r[1] for r in totals] == [1, 2, 3]
    assert totals[0][3] is None and totals[1][3] == totals[0][2]
    assert chain_problems(rows) == []
    forged = [r if r[1] != 2 or r[0] else (r[0], r[1], r[2], r[3], r[4].replace('"voted": 2', '"voted": 9')) for r in rows]
    assert chain_problems(forged) != []


async def test_each_digest_covers_the_previous_digest_so_history_cannot_be_relinked(pool, redis, election, make_worker):
    worker = make_worker()
    for _ in range(3):
        await cast(pool, election, "p1", {"mayor": ["bob"], "council": []})
        await worker.drain()
    async with pool.acquire() as conn:
        rows = [tuple(r) for r in await snapshots_db.chain(conn, election.election_id) if r[0] == ""]
    bodies = [msgspec.json.decode(r[4]) for r in rows]
    assert bodies[0]["previous_digest"] is None
    assert [b["previous_digest"] for b in bodies[1:]] == [r[2] for r in rows[:-1]]
    # Relinking version 3 to version 1 (dropping 2 from the history) needs a new digest.
    relinked = dict(bodies[2], previous_digest=bodies[0]["digest"])
    assert digest_of(relinked) != bodies[2]["digest"]
    dropped = [rows[0], (*rows[2][:3], rows[0][2], msgspec.json.encode(relinked).decode())]
    assert any("digest" in p for p in chain_problems(dropped))


async def test_redis_flushed_gets_the_same_snapshot_back_and_versions_never_go_backwards(pool, redis, election, make_worker):
    worker = make_worker()
    await cast(pool, election, "p1", {"mayor": ["carol"], "council": ["gold", "blue"]})
    await worker.drain()
    before = await redis_store.load(redis, election.election_id)
    await redis.flushdb()
    await worker.sweep()
    after = await redis_store.load(redis, election.election_id)
    assert after == before, "byte-identical bodies under the same version (strong ETags stay true)"
    await redis.flushdb()
    await cast(pool, election, "p2", {"mayor": ["carol"], "council": []})
    await worker.drain()
    assert (await redis_store.load(redis, election.election_id))[0] == before[0] + 1


async def test_redis_refuses_an_older_version(redis):
    assert await redis_store.store(redis, "e", 5, {"": b'{"version":5}'})
    assert not await redis_store.store(redis, "e", 4, {"": b'{"version":4}'})
    assert (await redis_store.load(redis, "e")) == (5, {"": b'{"version":5}'})


async def test_a_snapshot_breaking_an_invariant_is_not_published(pool, redis, election, make_worker, caplog):
    worker = make_worker()
    await cast(pool, election, "p1", {"mayor": ["alice"], "council": ["green"]})
    await worker.drain()
    good = await redis_store.load(redis, election.election_id)
    # "two rows were added together": one vote row counted twice
    await pool.execute("UPDATE tally_votes SET votes = votes + 1 WHERE contest_id = 'mayor' AND option_id = 'alice'")
    failures = metric("ballotline_tally_invariant_failures_total")
    with caplog.at_level(logging.ERROR):
        assert await publish(pool, redis, worker.catalog.get(election.election_id)) is None
    assert metric("ballotline_tally_invariant_failures_total") == failures + 1
    assert "refused for publication" in caplog.text
    assert await redis_store.load(redis, election.election_id) == good, "the last good snapshot stays"
    assert await pool.fetchval("SELECT max(version) FROM results_snapshots") == good[0]
