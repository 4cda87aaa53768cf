"""The load-test scenario votes real ballot shapes: each voter's ballot holds the contests
the public definition lists for the precinct in their token, and the seeded definition is
one the operator CLI accepts."""
from __future__ import annotations

import base64
import json

from loadtests.runner import seed
from loadtests.scenario import flows
from services.cli.definition_file import parse_definition
from services.common.election import contests_for


def token_for(precinct_id: str) -> str:
    claims = base64.urlsafe_b64encode(json.dumps({"pct": precinct_id}).encode()).rstrip(b"=").decode()
    return f"header.{claims}.signature"


def test_the_seeded_definition_has_two_districts_and_a_party_list():
    d = parse_definition(json.dumps(seed.definition("load", revoting=False)), "load.json")
    assert [c.contest_id for c in contests_for(d, "p03")] == ["mayor", "district-a", "council"]
    assert [c.contest_id for c in contests_for(d, "p12")] == ["mayor", "district-b", "council"]
    council = d.contests[-1]
    assert (council.seats, council.threshold_percent, council.options[-1].kind) == (10, 5, "against_all")
    assert all(seed.district_of(seed.precinct_of(n)) in ("district-a", "district-b") for n in range(1, 40))


def test_a_voter_fills_in_the_contests_of_the_precinct_in_their_token():
    public = {
        "contests": [{"contest_id": c, "max_choices": 1, "options": [{"option_id": "x"}]}
                     for c in ("mayor", "district-a", "district-b")],
        "precincts": [{"precinct_id": "p03", "contests": ["mayor", "district-a"]}],
    }
    precinct = flows.token_precinct(token_for("p03"))
    assert precinct == "p03"
    assert set(flows.random_selections(public, precinct)) == {"mayor", "district-a"}
    assert flows.token_precinct("not-a-token") is None
