"""Districts, seats, thresholds and "against all" in a definition file (API.md "Real
ballot shapes"): read as written, every broken rule named with its file and line."""
from __future__ import annotations

import pytest

from services.cli.definition_file import DefinitionFileError, parse_definition
from services.common.election import contests_for

from .conftest import line_of, valid_yaml

SHAPES = """\
  - contest_id: district-1
    title: District 1
    precincts: [p001]
    options:
      - {option_id: ann, title: Ann}
      - {option_id: against-all, title: Against all, kind: against_all}
  - contest_id: district-2
    title: District 2
    precincts: [p002, p099]
    options:
      - {option_id: ben, title: Ben}
  - contest_id: party-list
    title: Party list
    seats: 10
    threshold_percent: 5
    allocation: sainte-lague
    options:
      - {option_id: green, title: Green Party}
      - {option_id: against-all, title: Against all, kind: against_all}
precincts:
"""


def shaped_yaml() -> str:
    return valid_yaml().replace("precincts:\n", SHAPES, 1)


def errors_of(text: str) -> list[str]:
    with pytest.raises(DefinitionFileError) as caught:
        parse_definition(text, "city.yaml")
    return caught.value.lines


def test_district_and_party_list_fields_are_read():
    d = parse_definition(shaped_yaml(), "city.yaml")
    party_list = d.contests[4]
    assert (party_list.seats, party_list.threshold_percent, party_list.method) == (10, 5, "sainte-lague")
    assert party_list.threshold_hundredths == 500
    assert [o.kind for o in party_list.options] == [None, "against_all"]
    assert [c.contest_id for c in contests_for(d, "p001")] == ["council", "mayor", "district-1", "party-list"]
    assert [c.contest_id for c in contests_for(d, "p099")] == ["council", "mayor", "district-2", "party-list"]


def test_an_old_definition_means_what_it_meant():
    d = parse_definition(valid_yaml(), "city.yaml")
    assert all(c.precincts is None and c.seats is None for c in d.contests)
    assert len(contests_for(d, "p002")) == 2


@pytest.mark.parametrize(
    "old, new, fragment, expected",
    [
        ("precincts: [p001]", "precincts: [p001, p404]", "precincts: [p001, p404]",
         "contests[2].precincts[1]: 'p404' is not a precinct of the election"),
        ("precincts: [p001]", "precincts: []", "precincts: []",
         "contests[2].precincts: must name at least one precinct (leave it out for all)"),
        ("precincts: [p002, p099]", "precincts: [p002, p002]", "precincts: [p002, p002]",
         "contests[3].precincts: precinct 'p002' appears twice"),
        ("seats: 10", "seats: 0", "seats: 0", "contests[4].seats: must be between 1 and 10000"),
        ("threshold_percent: 5", "threshold_percent: 100", "threshold_percent",
         "contests[4].threshold_percent: must be at least 0 and below 100"),
        ("threshold_percent: 5", "threshold_percent: 3.125", "threshold_percent",
         "contests[4].threshold_percent: at most two decimals (e.g. 5 or 3.25)"),
        ("      - {option_id: green, title: Green Party}\n      - {option_id: against-all",
         "      - {option_id: green, title: Green Party, kind: against_all}\n      - {option_id: against-all",
         "    seats: 10", "contests[4].options: at most one option may be of kind against_all"),
    ],
)
def test_a_broken_shape_rule_is_refused_with_its_line(old, new, fragment, expected):
    text = shaped_yaml().replace(old, new, 1)
    lines = errors_of(text)
    assert any(line.endswith(expected) for line in lines), lines
    located = [line for line in lines if line.endswith(expected)][0]
    if fragment != "    seats: 10":  # a rule about the options list sits on its key's line
        assert located.startswith(f"city.yaml:{line_of(text, fragment)}:")


def test_threshold_and_allocation_need_seats():
    text = shaped_yaml().replace("    seats: 10\n", "")
    assert errors_of(text) == [
        f"city.yaml:{line_of(text, 'threshold_percent')}: contests[4].threshold_percent: applies only to a contest with seats",
        f"city.yaml:{line_of(text, 'allocation')}: contests[4].allocation: applies only to a contest with seats",
    ]


def test_an_unknown_allocation_or_kind_is_refused_with_its_line():
    text = shaped_yaml().replace("allocation: sainte-lague", "allocation: jefferson")
    [error] = errors_of(text)
    assert error.startswith(f"city.yaml:{line_of(text, 'allocation')}: contests[4].allocation")


def test_a_precinct_without_any_contest_is_refused():
    text = shaped_yaml()
    for contest in ("council", "mayor", "party-list"):  # only districts left
        text = text.replace(f"contest_id: {contest}", f"contest_id: {contest}\n    precincts: [p002]")
    text = text.replace("precincts: [p001]\n", "precincts: [p002]\n")
    assert errors_of(text) == [
        f"city.yaml:{line_of(text, 'precinct_id: p001')}: precincts[0]: no contest applies to 'p001'",
    ]


def test_a_precinct_outside_the_election_gets_no_ballot():
    d = parse_definition(shaped_yaml(), "city.yaml")
    assert contests_for(d, "p404") == []
