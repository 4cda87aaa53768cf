"""Districts and a party list through the real tally: outbox → counts → published
snapshots with seats; a ballot counted outside its district is never published."""
from __future__ import annotations

import logging

import msgspec

from services.common.election import Contest, Option
from services.tally import redis_store
from tests.factories import create_election, definition
from tests.results.ballots import cast, remember

from .conftest import roll

AGAINST = Option("against-all", "Against all", kind="against_all")
SHAPED = definition("shaped-2026", contests=[
    Contest("north", "North district", [Option("ann", "Ann"), AGAINST], precincts=["p1"]),
    Contest("south", "South district", [Option("ben", "Ben"), AGAINST], precincts=["p2", "p9"]),
    Contest("list", "Party list", [Option("red", "Red"), Option("blue", "Blue"), Option("tiny", "Tiny"), AGAINST],
            seats=10, threshold_percent=5, allocation="sainte-lague"),
])


async def shaped(pool, catalog):
    await create_election(pool, SHAPED, [(f"s-{v}", p, None, None) for v, p, _, _ in roll(50)])
    await catalog.reload()
    return remember(SHAPED)


async def published(redis) -> dict[str, dict]:
    _, bodies = await redis_store.load(redis, SHAPED.election_id)
    return {scope: msgspec.json.decode(body) for scope, body in bodies.items()}


async def test_a_published_snapshot_counts_districts_apart_and_allocates_seats(pool, redis, catalog, make_worker):
    d = await shaped(pool, catalog)
    for party, n in (("red", 12), ("blue", 7), ("against-all", 2)):
        for _ in range(n):
            await cast(pool, d, "p1", {"north": ["against-all"], "list": [party]})
    await cast(pool, d, "p2", {"south": ["ben"], "list": ["tiny"]})
    await make_worker().drain()
    snaps = await published(redis)
    contests = {c["contest_id"]: c for c in snaps[""]["contests"]}
    assert (contests["north"]["ballots"], contests["north"]["eligible"]) == (21, 50)
    assert (contests["south"]["ballots"], contests["south"]["eligible"]) == (1, 100)
    assert contests["north"]["options"][1]["votes"] == 21  # "against all" wins the district
    # Sainte-Laguë over red 12, blue 7 (tiny 1 of 22 ballots < 5%): 12 7 4 2.4 2.33 1.71 1.4 1.33 1.09 1 → 6/4
    assert [(o["option_id"], o["passes_threshold"], o["seats"]) for o in contests["list"]["options"]] == [
        ("red", True, 6), ("blue", True, 4), ("tiny", False, 0), ("against-all", False, 0),
    ]
    south_in_p1 = next(c for c in snaps["p1"]["contests"] if c["contest_id"] == "south")
    assert (south_in_p1["eligible"], south_in_p1["ballots"]) == (0, 0)


async def test_a_ballot_counted_outside_its_district_is_not_published(pool, redis, catalog, make_worker, caplog):
    d = await shaped(pool, catalog)
    await cast(pool, d, "p1", {"north": ["ann"], "list": ["red"]})
    worker = make_worker()
    await worker.drain()
    before = await published(redis)
    # what the vote service refuses, written past it: p2's voter with the north ballot too
    await cast(pool, d, "p2", {"north": ["ann"], "south": [], "list": ["red"]})
    with caplog.at_level(logging.ERROR, logger="services.tally.publisher"):
        await worker.drain()
    assert await published(redis) == before
    assert any("north: ballots 1 differ from the 0" in r.getMessage() for r in caplog.records), caplog.text
