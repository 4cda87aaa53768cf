"""API.md "Real ballot shapes" at the vote service: a voter's ballot is exactly the
contests of the precinct in their token (`pct`)."""
from __future__ import annotations

import pytest

from services.common.election import Contest, Option
from tests.factories import create_election, definition
from tests.tally_keys import tally_now

from .conftest import Voter, new_key

OPTIONS = [Option("ann", "Ann"), Option("against-all", "Against all", kind="against_all")]


@pytest.fixture
async def district_client(pool, elections, make_vote_client):
    await create_election(pool, definition("districts", contests=[
        Contest("north", "North district", OPTIONS, precincts=["p1"]),
        Contest("south", "South district", OPTIONS, precincts=["p2"]),
        Contest("list", "Party list", [Option("green", "Green"), *OPTIONS], seats=5, threshold_percent=5),
    ]))
    return await make_vote_client()


async def test_a_voter_casts_exactly_the_contests_of_their_precinct(district_client, minter, pool):
    north = Voter(district_client, minter, "v-north", "districts", "p1")
    response = await north.cast({"north": ["against-all"], "list": ["green"]}, key=new_key())
    assert response.status == 201, await response.text()
    await tally_now(pool)
    rows = await pool.fetch(
        "SELECT precinct_id, contest_id, ballots FROM tally_contests WHERE election_id = 'districts' ORDER BY 2"
    )
    assert [tuple(r) for r in rows] == [("p1", "list", 1), ("p1", "north", 1)]


@pytest.mark.parametrize(
    "selections, rule",
    [
        ({"north": [], "south": [], "list": []}, "contest 'south' is not on the ballot of precinct 'p1'"),
        ({"south": [], "list": []}, "contest 'south' is not on the ballot of precinct 'p1'"),
        ({"list": ["green"]}, "contest 'north' is missing"),
    ],
)
async def test_another_precincts_district_is_refused_422(district_client, minter, selections, rule):
    response = await Voter(district_client, minter, "v-north", "districts", "p1").cast(selections, key=new_key())
    assert response.status == 422
    problem = await response.json()
    assert problem["code"] == "invalid_ballot" and rule in problem["detail"], problem
