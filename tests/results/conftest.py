"""Fixtures for the results tests: an election with a roll, a tally worker (on a pool
as ballotline_tally, as in production), settings."""
from __future__ import annotations

import pytest

from services.common import roles
from services.common.catalog import ElectionCatalog
from services.common.storage import create_pool
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
async def tally_pool(database_url, pool):
    """The tally's own pool, with only the tally's grants (after `pool` emptied the tables)."""
    tally = await create_pool(database_url, min_size=1, max_size=4, role=roles.TALLY)
    try:
        yield tally
    finally:
        await tally.close()


@pytest.fixture
def make_worker(tally_pool, redis, catalog):
    def make(batch_size: int = 50) -> TallyWorker:
        return TallyWorker(tally_pool, redis, catalog, tally_settings(batch_size=batch_size, interval=0.02, publish_interval=0.05))

    return make
