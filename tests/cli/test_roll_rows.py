"""The rules of one voter roll row, without a database."""
from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.cli.roll_rows import (
    RollValidator,
    RowError,
    encode_public_key,
    parse_public_key,
)

from .conftest import KEY

PRECINCTS = ["p001", "p002"]
VISIBLE_NO_COMMA = [chr(c) for c in range(0x21, 0x7F) if chr(c) != ","]


def check(*rows: list[str]) -> tuple[list, RollValidator]:
    v = RollValidator(PRECINCTS)
    return [v.check(n, fields) for n, fields in enumerate(rows, 2)], v


def test_a_full_row_becomes_a_voter_with_the_raw_key():
    (voter,), v = check(["V1", "p001", "+15550001234", KEY])
    assert voter == ("V1", "p001", "+15550001234", base64.urlsafe_b64decode(KEY + "="))
    assert v.errors == [] and v.accepted == 1 and v.per_precinct == {"p001": 1, "p002": 0}


def test_phone_and_key_may_be_empty():
    (voter,), _ = check(["V1", "p002", "", ""])
    assert voter == ("V1", "p002", None, None)


def test_a_padded_key_is_accepted():
    (voter,), _ = check(["V1", "p001", "", KEY + "="])
    assert voter[3] == parse_public_key(KEY)


@pytest.mark.parametrize(
    "fields, reason",
    [
        (["V1", "p001", ""], "expected 4 columns"),
        (["V1", "p001", "", "", ""], "expected 4 columns"),
        (["", "p001", "", ""], "voter_id ''"),
        (["V 1", "p001", "", ""], "voter_id 'V 1'"),
        (["V" * 129, "p001", "", ""], "must be 1 to 128 visible ASCII"),
        (["Vé", "p001", "", ""], "voter_id 'Vé'"),
        (["V1", "p404", "", ""], "precinct_id 'p404': no such precinct"),
        (["V1", "p001", "5550001234", ""], "phone '5550001234': must be E.164"),
        (["V1", "p001", "+0555000123", ""], "must be E.164"),
        (["V1", "p001", "+1555000123456789", ""], "must be E.164"),
        (["V1", "p001", "+1 555 000 1234", ""], "must be E.164"),
        (["V1", "p001", "", KEY[:-1]], "public_key: must be the base64url encoding"),
        (["V1", "p001", "", KEY + "A"], "public_key: must be the base64url encoding"),
        (["V1", "p001", "", KEY.replace("_", "/")], "public_key: must be the base64url encoding"),
        (["V1", "p001", "", KEY[:-1] + "p"], "public_key: is not a canonical base64url encoding"),
    ],
)
def test_a_malformed_row_is_refused_with_its_line_and_reason(fields, reason):
    (voter,), v = check(fields)
    assert voter is None and v.accepted == 0
    (error,) = v.errors
    assert error.line == 2 and reason in error.reason


def test_a_repeated_voter_is_refused_naming_the_first_line():
    result, v = check(["V1", "p001", "", ""], ["V2", "p001", "", ""], ["V1", "p002", "", ""])
    assert result[2] is None
    assert v.errors == [RowError(4, "voter_id 'V1': already on line 2")]


def test_every_problem_of_a_row_is_reported():
    _, v = check(["V 1", "p404", "123", "x"])
    assert [e.line for e in v.errors] == [2, 2, 2, 2]


def test_only_the_first_errors_are_kept_but_all_are_counted():
    v = RollValidator(PRECINCTS, keep=3)
    for n in range(10):
        v.check(n + 2, ["V", "nowhere", "", ""])
    assert len(v.errors) == 3 and v.error_count == 10 + 9  # ten bad precincts, nine repeats


@given(
    voter_id=st.text(alphabet=VISIBLE_NO_COMMA, min_size=1, max_size=128),
    precinct=st.sampled_from(PRECINCTS),
    phone=st.one_of(st.just(""), st.from_regex(r"\A\+[1-9][0-9]{6,14}\Z")),
    key=st.one_of(st.none(), st.binary(min_size=32, max_size=32)),
)
def test_any_well_formed_row_is_accepted_and_its_key_round_trips(voter_id, precinct, phone, key):
    v = RollValidator(PRECINCTS)
    voter = v.check(7, [voter_id, precinct, phone, encode_public_key(key) if key else ""])
    assert voter == (voter_id, precinct, phone or None, key) and v.errors == []


@given(
    prefix=st.text(alphabet=VISIBLE_NO_COMMA, max_size=20),
    bad=st.sampled_from([" ", ",", "\t", "é", "\x00", "\n"]),
    suffix=st.text(alphabet=VISIBLE_NO_COMMA, max_size=20),
)
def test_a_voter_id_with_a_space_comma_or_non_ascii_character_is_refused(prefix, bad, suffix):
    v = RollValidator(PRECINCTS)
    assert v.check(2, [prefix + bad + suffix, "p001", "", ""]) is None
    assert v.errors[0].reason.startswith("voter_id")


@given(text=st.text(max_size=60))
def test_a_key_is_accepted_only_if_it_encodes_exactly_32_bytes(text):
    try:
        raw = parse_public_key(text)
    except ValueError:
        return
    assert len(raw) == 32 and encode_public_key(raw) == text.rstrip("=")
