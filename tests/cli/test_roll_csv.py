"""Reading a roll CSV as a stream: header first, line numbers kept, UTF-8 checked per line."""
from __future__ import annotations

import pytest

from services.cli.roll_csv import RollFileError, open_roll_csv

from .conftest import HEADER


def read(path) -> list:
    with open_roll_csv(path) as rows:
        return list(rows)


def refusal(path) -> list[str]:
    with pytest.raises(RollFileError) as caught:
        read(path)
    return caught.value.lines


def test_rows_come_with_their_line_numbers_and_blank_lines_are_skipped(write):
    path = write("roll.csv", HEADER + "V1,p001,,\n\nV2,p002,+15550001234,\n")
    assert read(path) == [(2, ["V1", "p001", "", ""]), (4, ["V2", "p002", "+15550001234", ""])]


def test_crlf_line_ends_and_a_byte_order_mark_are_accepted(write):
    path = write("roll.csv", "\ufeff" + HEADER.replace("\n", "\r\n") + "V1,p001,,\r\n")
    assert read(path) == [(2, ["V1", "p001", "", ""])]


@pytest.mark.parametrize(
    "header",
    ["voter_id,precinct_id,phone\n", "precinct_id,voter_id,phone,public_key\n", "Voter_ID,precinct_id,phone,public_key\n", "V1,p001,,\n"],
)
def test_a_bad_header_is_refused_on_line_1(write, header):
    (line,) = refusal(write("roll.csv", header + "V1,p001,,\n"))
    assert line.startswith(f"{write('roll.csv', '').parent / 'roll.csv'}:1: the header must be exactly")


def test_an_empty_file_is_refused(write):
    (line,) = refusal(write("roll.csv", ""))
    assert ":1: the file is empty" in line


def test_a_line_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "roll.csv"
    path.write_bytes(HEADER.encode() + b"V1,p001,,\nV\xe9,p001,,\n")
    (line,) = refusal(path)
    assert line.startswith(f"{path}:3: not UTF-8")


def test_a_missing_file_is_named(tmp_path):
    assert refusal(tmp_path / "nope.csv") == [f"{tmp_path / 'nope.csv'}: no such file"]
