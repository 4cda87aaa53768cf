"""A re-vote is never published as two votes (issue 8): through the real vote service and
the real tally, with the tally held back and released one batch at a time.

Before the sealed outbox, a re-vote wrote `+1 new` and `-1 old` as two outbox rows, and a
batch could take the new ballot's +1 while holding back the old one's -1 (its +1 was
still pending): one voter, `turnout.voted = 2`, published. Every snapshot here is checked
against what a voter-level model allows.
"""
from __future__ import annotations

import asyncio
import itertools

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.common.catalog import ElectionCatalog
from services.common.settings import Env
from services.tally.settings import TallySettings
from services.tally.worker import TallyWorker
from tests.factories import create_election, definition
from tests.tally_keys import ENV as TALLY_ENV

from .conftest import Voter, new_key

ELECTION = "revote-watch"
ROLL = [(f"w-{i}", "p1" if i % 2 else "p2", None, None) for i in range(200)]
CHOICES = ({"mayor": ["alice"], "council": ["green"]}, {"mayor": ["bob"], "council": []}, {"mayor": ["carol"], "council": ["red", "gold"]})
_counter = itertools.count()


@pytest.fixture
async def watched(pool, make_vote_client):
    await create_election(pool, definition(ELECTION, revoting=True), ROLL)
    client = await make_vote_client()
    catalog = ElectionCatalog(pool, poll_interval=0.2)
    await catalog.start()
    try:
        yield client, catalog
    finally:
        await catalog.stop()


def worker(pool, redis, catalog, batch_size: int) -> TallyWorker:
    # From the environment, as `ballotline tally run` reads it: the same code path on any version.
    settings = TallySettings.from_env(Env({**TALLY_ENV, "TALLY_BATCH_SIZE": str(batch_size)}))
    return TallyWorker(pool, redis, catalog, settings)


async def published_totals(pool, after_version: int = 0) -> list[dict]:
    rows = await pool.fetch(
        "SELECT body::text FROM results_snapshots WHERE election_id = $1 AND scope = '' AND version > $2 ORDER BY version",
        ELECTION, after_version,
    )
    return [msgspec.json.decode(r[0]) for r in rows]


def mayor(snapshot: dict) -> dict[str, int]:
    [contest] = [c for c in snapshot["contests"] if c["contest_id"] == "mayor"]
    return {o["option_id"]: o["votes"] for o in contest["options"]}


def check(snapshot: dict, voters: int) -> None:
    """What any snapshot may say when `voters` voters have cast at least one ballot."""
    voted = snapshot["turnout"]["voted"]
    assert voted <= voters, f"version {snapshot['version']}: {voted} votes from {voters} voter(s)"
    assert sum(mayor(snapshot).values()) == voted, snapshot


@pytest.mark.parametrize("batch_size", [1, 2, 3])
async def test_a_revote_released_one_batch_at_a_time_is_never_two_votes(pool, redis, watched, minter, batch_size):
    client, catalog = watched
    voter = Voter(client, minter, "w-1", election_id=ELECTION, precinct_id="p1")
    assert (await voter.cast(CHOICES[0], key=new_key())).status == 201  # A
    assert (await voter.cast(CHOICES[1], key=new_key())).status == 201  # B re-votes; the tally has seen neither
    tally = worker(pool, redis, catalog, batch_size)
    seen = []
    while await tally.apply_once():  # one batch, then its snapshot
        await tally.publish_dirty()
        seen += await published_totals(pool, seen[-1]["version"] if seen else 0)
    assert seen, "the tally published nothing"
    for snapshot in seen:
        check(snapshot, voters=1)
        assert snapshot["turnout"]["voted"] == 1, f"version {snapshot['version']}: the voter's ballot vanished"
    assert mayor(seen[-1]) == {"alice": 0, "bob": 1, "carol": 0}
    assert await pool.fetchval("SELECT count(*) FROM tally_outbox") == 0


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
async def test_random_interleavings_of_ballots_revotes_and_two_workers_never_publish_a_double_vote(
    pool, redis, watched, minter, data
):
    client, catalog = watched
    await pool.execute(
        "TRUNCATE ballots, tally_outbox, participation, idempotency_keys, tally_votes, tally_contests,"
        " tally_precincts, results_snapshots, results_heads, participation_counts"
    )
    workers = [worker(pool, redis, catalog, 2), worker(pool, redis, catalog, 3)]
    run = next(_counter)
    voters: list[Voter] = []
    last: dict[int, int] = {}  # voter index -> index of the choice of their latest ballot
    version = 0

    async def publish_and_check() -> None:
        nonlocal version
        for w in workers:
            await w.publish_dirty()
        for snapshot in await published_totals(pool, version):
            check(snapshot, voters=len(voters))
            version = snapshot["version"]

    for _ in range(data.draw(st.integers(5, 25), label="steps")):
        step = data.draw(st.sampled_from(["cast", "revote", "tally", "both"]), label="step")
        if step == "cast" or (step == "revote" and not voters):
            i = len(voters)
            voters.append(Voter(client, minter, f"h{run}-{i}", election_id=ELECTION, precinct_id="p1"))
        if step in ("cast", "revote"):
            i = len(voters) - 1 if step == "cast" else data.draw(st.integers(0, len(voters) - 1), label="voter")
            choice = data.draw(st.integers(0, len(CHOICES) - 1), label="choice")
            assert (await voters[i].cast(CHOICES[choice], key=new_key())).status == 201
            last[i] = choice
        elif step == "tally":
            await data.draw(st.sampled_from(workers), label="worker").apply_once()
            await publish_and_check()
        else:  # both workers at once: only one may apply at a time, neither may split a re-vote
            await asyncio.gather(*(w.apply_once() for w in workers))
            await publish_and_check()
    while await pool.fetchval("SELECT count(*) FROM tally_outbox"):
        await workers[0].apply_once()
    await publish_and_check()
    final = await published_totals(pool, version - 1) if version else []
    expected = {o: 0 for o in ("alice", "bob", "carol")}
    for choice in last.values():
        expected[CHOICES[choice]["mayor"][0]] += 1
    if last:
        assert final and final[-1]["turnout"]["voted"] == len(last)
        assert mayor(final[-1]) == expected
    counted = await pool.fetchval("SELECT coalesce(sum(voters), 0) FROM participation_counts WHERE election_id = $1", ELECTION)
    assert counted == await pool.fetchval("SELECT count(*) FROM participation WHERE election_id = $1", ELECTION) == len(last)
