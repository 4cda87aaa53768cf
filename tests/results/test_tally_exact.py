"""The tally is exact: every live ballot counted once, in total and per precinct,
whatever the re-votes, annulments, concurrent workers and crashes."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import msgspec
import pytest

from services.tally import redis_store
from services.tally.recount import recount
from tests.results.ballots import annul, random_election_ballots, snapshot_counts

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


async def published(redis, election_id):
    version, bodies = await redis_store.load(redis, election_id)
    return version, {scope: msgspec.json.decode(body) for scope, body in bodies.items()}


async def assert_results_equal_ballots(redis, model, election):
    version, snaps = await published(redis, election.election_id)
    total = snaps[""]
    assert total["version"] == version
    assert snapshot_counts(total) == model.contests()
    assert total["turnout"]["voted"] == model.voted()
    for p in election.precincts:
        assert snapshot_counts(snaps[p.precinct_id]) == model.contests(p.precinct_id), p.precinct_id
        assert snaps[p.precinct_id]["turnout"]["voted"] == model.voted(p.precinct_id)
    return total


async def test_results_equal_the_live_ballots_after_random_votes_and_revotes(pool, redis, election, make_worker):
    model, current = await random_election_ballots(pool, election, 400, seed=1)
    for ballot in current[:5]:
        await annul(pool, election, ballot)
        model.remove(ballot)
    await make_worker(batch_size=37).drain()
    total = await assert_results_equal_ballots(redis, model, election)
    assert total["precincts_reporting"] == 2 and total["precincts_total"] == 3
    assert total["turnout"]["eligible"] == 1200
    assert await pool.fetchval("SELECT count(*) FROM tally_outbox") == 0
    assert (await recount(pool, election.election_id)).ok


async def test_two_workers_at_once_count_exactly(pool, redis, election, make_worker):
    model, _ = await random_election_ballots(pool, election, 600, seed=2, revote_share=0.4)
    a, b = make_worker(batch_size=7), make_worker(batch_size=11)

    async def run(worker):  # one applies at a time (advisory lock); the other finds 0 and tries again
        applied = 0
        while await pool.fetchval("SELECT count(*) FROM tally_outbox"):
            n = await worker.apply_once()
            applied += n
            await asyncio.sleep(0 if n else 0.001)
        return applied

    applied = await asyncio.gather(run(a), run(b))
    assert all(n > 0 for n in applied), "both workers took batches"
    await a.publish_dirty()
    await b.publish_dirty()
    await assert_results_equal_ballots(redis, model, election)
    assert (await recount(pool, election.election_id)).ok


async def test_ballots_committed_while_workers_run_are_all_counted(pool, redis, election, make_worker):
    workers = [make_worker(batch_size=5), make_worker(batch_size=9)]
    for w in workers:
        w.start()
    try:
        model, _ = await random_election_ballots(pool, election, 300, seed=3, revote_share=0.5)
        for _ in range(100):
            if await pool.fetchval("SELECT count(*) FROM tally_outbox") == 0:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
    finally:
        for w in workers:
            await w.stop()
    await workers[0].publish_dirty()
    await workers[0].sweep()
    await assert_results_equal_ballots(redis, model, election)


async def test_a_batch_cancelled_inside_its_transaction_leaves_no_trace(pool, redis, election, make_worker, monkeypatch):
    from services.tally import tally_db

    model, _ = await random_election_ballots(pool, election, 50, seed=4)
    real = tally_db.apply_claimed

    async def half_then_die(conn, deltas):
        await real(conn, deltas)  # counts written, outbox rows deleted, not committed
        raise asyncio.CancelledError

    pending = await pool.fetchval("SELECT count(*) FROM tally_outbox")
    monkeypatch.setattr(tally_db, "apply_claimed", half_then_die)
    with pytest.raises(asyncio.CancelledError):
        await make_worker(batch_size=20).apply_once()
    assert await pool.fetchval("SELECT count(*) FROM tally_outbox") == pending
    assert await pool.fetchval("SELECT count(*) FROM tally_votes") == 0
    monkeypatch.setattr(tally_db, "apply_claimed", real)
    await make_worker(batch_size=20).drain()
    await assert_results_equal_ballots(redis, model, election)


def _tally_process(env):
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", "tally", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
async def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(pool, redis, election, make_worker, service_env):
    model, _ = await random_election_ballots(pool, election, 200, seed=5)
    pending = await pool.fetchval("SELECT count(*) FROM tally_outbox")
    env = {**os.environ, **service_env, "TALLY_BATCH_SIZE": "1000", "TALLY_RECOUNT_INTERVAL": "0", "METRICS_PORT": "0"}
    # Hold a lock the worker's batch will need, so that it is caught inside its transaction.
    blocker = await pool.acquire()
    tx = blocker.transaction()
    await tx.start()
    await blocker.execute(
        "INSERT INTO tally_precincts (election_id, precinct_id, voted) VALUES ($1, 'p1', 0)", election.election_id
    )
    process = _tally_process(env)
    try:
        for _ in range(200):  # the worker is blocked mid-batch, its outbox rows deleted
            waiting = await pool.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ballotline-tally'"
                " AND wait_event_type = 'Lock' AND state = 'active'"
            )
            if waiting:
                break
            await asyncio.sleep(0.05)
        assert waiting, "the worker reached the lock inside its batch"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
        await tx.rollback()
        await pool.release(blocker)
    await asyncio.sleep(0.2)
    assert await pool.fetchval("SELECT count(*) FROM tally_outbox") == pending, "the killed batch rolled back"
    assert await pool.fetchval("SELECT count(*) FROM tally_votes") == 0
    restarted = _tally_process(env)
    try:
        for _ in range(200):
            if await pool.fetchval("SELECT count(*) FROM tally_outbox") == 0:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.5)  # a publication, at most a sweep interval later
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(10)
    await assert_results_equal_ballots(redis, model, election)
    assert (await recount(pool, election.election_id)).ok
