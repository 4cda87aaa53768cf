"""Fixtures for the results tests: an election with a roll, a tally worker, settings."""
from __future__ import annotations

import pytest

from services.common.catalog import ElectionCatalog
from services.tally.worker import TallyWorker
from tests.factories import create_election, definition
from tests.results.ballots import remember
from tests.tally_keys import tally_settings


def roll(per_precinct: int = 400, precincts=("p1", "p2", "p9")):
    return [(f"v-{p}-{i}", p, None, None) for p in precincts for i in range(per_precinct)]


@pytest.fixture
async def election(pool):
    d = definition("city-2026", revoting=True)
    await create_election(pool, d, roll())
    return remember(d)


@pytest.fixture
async def catalog(pool, election):
    catalog = ElectionCatalog(pool, poll_interval=0.2)
    await catalog.start()
    try:
        yield catalog
    finally:
        await catalog.stop()


@pytest.fixture
def make_worker(pool, redis, catalog):
    def make(batch_size: int = 50) -> TallyWorker:
        return TallyWorker(pool, redis, catalog, tally_settings(batch_size=batch_size, interval=0.02, publish_interval=0.05))

    return make
