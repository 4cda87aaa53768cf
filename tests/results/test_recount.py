"""The full recount agrees with the incremental tally, pending rows included, and
alerts — never corrects — when a count was tampered with."""
from __future__ import annotations

import asyncio
import logging
import os
import sys

from prometheus_client import REGISTRY

from services.tally.recount import recount, recount_and_alert
from tests.results.ballots import random_election_ballots

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mismatches() -> float:
    return REGISTRY.get_sample_value("ballotline_tally_recount_mismatches_total") or 0.0


async def test_recount_agrees_while_outbox_rows_are_still_pending(pool, tally_pool, election, make_worker):
    await random_election_ballots(pool, election, 120, seed=11, revote_share=0.5)
    worker = make_worker(batch_size=13)
    result = await recount(tally_pool, election.election_id)
    assert result.ok and result.pending_rows > 0
    for _ in range(4):  # part of the outbox applied, part pending
        await worker.apply_once()
        assert (await recount(tally_pool, election.election_id)).ok
    await worker.drain()
    result = await recount(tally_pool, election.election_id)
    assert result.ok and result.pending_rows == 0 and result.live_ballots > 0


async def test_a_tampered_count_is_alerted_and_not_corrected(pool, tally_pool, election, make_worker, caplog):
    await random_election_ballots(pool, election, 60, seed=12)
    await make_worker().drain()
    await pool.execute(
        "UPDATE tally_votes SET votes = votes + 1 WHERE (precinct_id, contest_id, option_id) IN"
        " (SELECT precinct_id, contest_id, option_id FROM tally_votes WHERE contest_id = 'council' LIMIT 1)"
    )
    tampered = await pool.fetchval("SELECT sum(votes) FROM tally_votes")
    before = mismatches()
    with caplog.at_level(logging.ERROR):
        result = await recount_and_alert(tally_pool, election.election_id)
    assert not result.ok and len(result.differences) == 1
    assert "expected" in result.differences[0] and "council" in result.differences[0]
    assert mismatches() == before + 1
    assert "ALERT: recount of city-2026 disagrees" in caplog.text
    assert await pool.fetchval("SELECT sum(votes) FROM tally_votes") == tampered, "never silently corrected"


async def _verify(service_env, election_id):
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.cli.main", "tally", "verify", election_id,
        cwd=ROOT, env={**os.environ, **service_env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, out.decode()


async def test_tally_verify_exits_0_when_exact_1_on_mismatch_2_for_unknown(pool, election, make_worker, service_env):
    await random_election_ballots(pool, election, 40, seed=13)
    await make_worker().drain()
    code, out = await _verify(service_env, election.election_id)
    assert code == 0, out
    assert "OK" in out
    await pool.execute("UPDATE tally_precincts SET voted = voted - 1 WHERE precinct_id = 'p1'")
    code, out = await _verify(service_env, election.election_id)
    assert code == 1 and "MISMATCH voted[p1]: expected" in out, out
    code, out = await _verify(service_env, "no-such-election")
    assert code == 2, out
