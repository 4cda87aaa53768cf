"""Reading election definition files: every error names file, line, field and reason."""
from __future__ import annotations

import json

import pytest
import yaml

from services.cli.definition_file import (
    DefinitionFileError,
    load_definition,
    parse_definition,
)

from .conftest import line_of, valid_yaml


def errors_of(text: str, source: str = "city.yaml") -> list[str]:
    with pytest.raises(DefinitionFileError) as caught:
        parse_definition(text, source)
    return caught.value.lines


def test_the_api_example_becomes_a_definition():
    d = parse_definition(valid_yaml(), "city.yaml")
    assert d.election_id == "city-2026"
    assert [c.contest_id for c in d.contests] == ["council", "mayor"]
    assert d.contests[1].max_choices == 1
    assert [p.channel for p in d.precincts] == ["online", "online", "paper"]
    assert d.opens_at.tzinfo is not None


def test_the_same_definition_in_json_is_read_alike():
    text = valid_yaml()
    as_json = json.dumps(yaml.safe_load(text), default=str, indent=2)
    assert parse_definition(as_json, "city.json") == parse_definition(text, "city.yaml")


def test_json_is_recognised_by_its_content_whatever_the_extension():
    as_json = json.dumps(yaml.safe_load(valid_yaml()), default=str)
    assert parse_definition(as_json, "city.txt").election_id == "city-2026"


def test_definition_with_a_contest_without_options_is_refused_with_its_line():
    text = valid_yaml().replace(
        "    options:\n      - {option_id: ada, title: Ada}\n      - {option_id: bob, title: Bob}\n", "    options: []\n"
    )
    line = line_of(text, "options: []")
    assert errors_of(text) == [f"city.yaml:{line}: contests[1].options: a contest needs at least one option"]


@pytest.mark.parametrize("max_choices", [0, 3, -1])
def test_max_choices_out_of_range_is_refused_with_its_line(max_choices):
    text = valid_yaml().replace("max_choices: 1", f"max_choices: {max_choices}")
    line = line_of(text, "max_choices")
    assert errors_of(text) == [
        f"city.yaml:{line}: contests[0].max_choices: must be between 1 and the number of options (2)"
    ]


def test_closing_before_opening_is_refused_on_the_closes_at_line():
    text = valid_yaml(hours=-1)
    assert errors_of(text) == [f"city.yaml:{line_of(text, 'closes_at')}: closes_at: must be after opens_at"]


def test_times_without_a_zone_are_refused():
    text = valid_yaml().replace("+00:00", "")
    assert errors_of(text) == [
        "city.yaml:3: opens_at: must carry a time zone, e.g. 2026-11-21T06:00:00Z",
        "city.yaml:4: closes_at: must carry a time zone, e.g. 2026-11-21T06:00:00Z",
    ]


@pytest.mark.parametrize(
    "old, new, path",
    [
        ("election_id: city-2026", "election_id: City_2026", "election_id"),
        ("contest_id: council", "contest_id: 'city council'", "contests[0].contest_id"),
        ("option_id: bob", "option_id: 'b/b'", "contests[1].options[1].option_id"),
        ("precinct_id: p099", "precinct_id: 'p 99'", "precincts[2].precinct_id"),
    ],
)
def test_malformed_ids_are_refused_with_their_line_and_path(old, new, path):
    text = valid_yaml().replace(old, new)
    (error,) = errors_of(text)
    assert error.startswith(f"city.yaml:{line_of(text, new)}: {path}: must match")


@pytest.mark.parametrize(
    "old, new, path, reason",
    [
        ("contest_id: mayor", "contest_id: council", "contests", "contest_id 'council' appears twice"),
        ("option_id: bob", "option_id: ada", "contests[1].options", "option_id 'ada' appears twice"),
        ("precinct_id: p099", "precinct_id: p001", "precincts", "precinct_id 'p001' appears twice"),
    ],
)
def test_duplicate_ids_are_refused_on_the_line_of_the_repeat(old, new, path, reason):
    text = valid_yaml().replace(old, new)
    assert errors_of(text) == [f"city.yaml:{line_of(text, new, 2)}: {path}: {reason}"]


def test_an_unknown_field_is_refused_with_its_line():
    text = valid_yaml().replace("    title: Mayor\n", "    title: Mayor\n    colour: red\n")
    (error,) = errors_of(text)
    assert error.startswith(f"city.yaml:{line_of(text, 'colour')}: contests[1].colour: unknown field")


def test_a_missing_field_is_reported_at_its_enclosing_item():
    text = valid_yaml().replace("    title: Mayor\n", "")
    assert errors_of(text) == [f"city.yaml:{line_of(text, 'contest_id: mayor')}: contests[1].title: required field is missing"]


def test_a_value_of_the_wrong_type_is_refused():
    text = valid_yaml().replace("max_choices: 1", "max_choices: two")
    assert errors_of(text) == [f"city.yaml:{line_of(text, 'max_choices')}: contests[0].max_choices: Expected `int`, got `str`"]


def test_a_key_given_twice_is_refused_rather_than_silently_overwritten():
    text = valid_yaml().replace("title: City council 2026\n", "title: City council 2026\ntitle: Other\n")
    assert errors_of(text) == ["city.yaml:3: title: given twice (first on line 2)"]


def test_every_shape_error_is_reported_at_once_in_line_order():
    text = (
        valid_yaml()
        .replace("title: City council 2026", "title: [City]")
        .replace("max_choices: 1", "max_choices: one")
        .replace("    title: Mayor\n", "")
        .replace("channel: paper", "channel: pigeon")
    )
    errors = errors_of(text)
    assert [e.split(": ")[1] for e in errors] == [
        "title", "contests[0].max_choices", "contests[1].title", "precincts[2].channel"
    ]
    lines = [int(e.split(":")[1]) for e in errors]
    assert lines == sorted(lines)


def test_every_rule_error_is_reported_at_once_once_the_shape_is_right():
    text = (
        valid_yaml(hours=-1)
        .replace("election_id: city-2026", "election_id: City")
        .replace("max_choices: 1", "max_choices: 9")
        .replace("precinct_id: p099", "precinct_id: p001")
    )
    paths = [e.split(": ")[1] for e in errors_of(text)]
    assert paths == ["election_id", "closes_at", "contests[0].max_choices", "precincts"]


def test_malformed_yaml_is_refused_with_its_line():
    text = valid_yaml().replace("    title: Mayor\n", "    title: [Mayor\n")
    (error,) = errors_of(text)
    assert error.startswith("city.yaml:") and "malformed YAML" in error
    assert int(error.split(":")[1]) >= line_of(text, "title: [Mayor")


def test_malformed_json_is_refused_with_its_line():
    text = '{\n  "election_id": "x",\n  "title": oops\n}\n'
    (error,) = errors_of(text, "city.json")
    assert error.startswith("city.json:3: malformed JSON")


def test_json_errors_carry_the_line_of_their_key():
    as_json = json.dumps(yaml.safe_load(valid_yaml()), default=str, indent=2).replace('"max_choices": 1', '"max_choices": 5')
    assert errors_of(as_json, "city.json") == [
        f"city.json:{line_of(as_json, 'max_choices')}: contests[0].max_choices: must be between 1 and the number of options (2)"
    ]


def test_an_empty_file_is_refused():
    assert errors_of("") == ["city.yaml:1: the file holds no definition"]


def test_a_list_instead_of_a_mapping_is_refused():
    assert errors_of("- a\n- b\n") == ["city.yaml:1: (top level): expected a mapping of fields, got a list"]


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(DefinitionFileError) as caught:
        load_definition(tmp_path / "nope.yaml")
    assert caught.value.lines == [f"{tmp_path / 'nope.yaml'}: no such file"]
