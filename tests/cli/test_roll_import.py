"""`ballotline roll import`: all rows or none, with line numbers; replaces; frozen once open."""
from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta, timezone

import pytest

from .conftest import HEADER, KEY

GOOD = HEADER + "V1,p001,+15550001234,\nV2,p001,,KEY\nV3,p002,,\n".replace("KEY", KEY)


def voters(db) -> dict[str, tuple]:
    rows = db.fetch("SELECT voter_id, precinct_id, phone, public_key FROM voters WHERE election_id = 'city-2026'")
    return {r["voter_id"]: (r["precinct_id"], r["phone"], r["public_key"]) for r in rows}


def eligible(db) -> dict[str, int]:
    return {r["precinct_id"]: r["eligible"] for r in db.fetch("SELECT precinct_id, eligible FROM precincts")}


def test_a_valid_roll_is_imported_with_counts_and_an_audit_event(cli, db, write, created):
    result = cli("roll", "import", created, str(write("roll.csv", GOOD)))
    assert result.code == 0, result.err
    assert re.search(r"imported 3 voters into city-2026 in [\d.]+ s \([\d,]+ rows/s\)", result.out)
    assert voters(db) == {
        "V1": ("p001", "+15550001234", None),
        "V2": ("p001", None, base64.urlsafe_b64decode(KEY + "=")),
        "V3": ("p002", None, None),
    }
    assert eligible(db) == {"p001": 2, "p002": 1, "p099": 0}
    assert db.val("SELECT detail->>'voters' FROM election_events WHERE action = 'roll_import'") == "3"


def test_every_voter_gets_a_distinct_random_handle(cli, db, write, created):
    cli("roll", "import", created, str(write("roll.csv", GOOD)))
    handles = [r["handle"] for r in db.fetch("SELECT handle FROM voters")]
    assert len(set(handles)) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", h) for h in handles)


@pytest.mark.parametrize(
    "rows, line, reason",
    [
        ("V9,p404,,\n", 5, "precinct_id 'p404': no such precinct"),
        ("V1,p002,,\n", 5, "voter_id 'V1': already on line 2"),
        ("V9,p001,,notakey\n", 5, "public_key: must be the base64url encoding"),
        ("V9,p001,555-0100,\n", 5, "phone '555-0100': must be E.164"),
        ("V9,p001,\n", 5, "expected 4 columns"),
        ("V9,p001,,,extra\n", 5, "expected 4 columns"),
        ("V 9,p001,,\n", 5, "voter_id 'V 9': must be 1 to 128"),
    ],
)
def test_a_bad_row_is_reported_with_its_line_and_nothing_is_imported(cli, db, write, created, rows, line, reason):
    path = write("roll.csv", GOOD + rows)
    result = cli("roll", "import", created, str(path))
    assert result.code == 1 and result.out == ""
    first, total = result.err.splitlines()
    assert first.startswith(f"{path}:{line}: {reason}")
    assert total == f"1 error(s) in {path}; nothing was imported"
    assert voters(db) == {} and db.val("SELECT count(*) FROM election_events WHERE action = 'roll_import'") == 0


def test_a_bad_header_is_refused_before_touching_the_roll(cli, db, write, created):
    cli("roll", "import", created, str(write("first.csv", GOOD)))
    path = write("roll.csv", "voter,precinct,phone,key\nV1,p001,,\n")
    result = cli("roll", "import", created, str(path))
    assert result.code == 1 and result.err.startswith(f"{path}:1: the header must be exactly voter_id,precinct_id,phone,public_key")
    assert set(voters(db)) == {"V1", "V2", "V3"}


def test_a_failed_import_leaves_the_previous_roll_intact(cli, db, write, created):
    cli("roll", "import", created, str(write("first.csv", GOOD)))
    result = cli("roll", "import", created, str(write("roll.csv", HEADER + "W1,p001,,\nW2,p404,,\n")))
    assert result.code == 1
    assert set(voters(db)) == {"V1", "V2", "V3"} and eligible(db) == {"p001": 2, "p002": 1, "p099": 0}


def test_only_the_first_50_errors_are_printed_with_the_total(cli, db, write, created):
    path = write("roll.csv", HEADER + "".join(f"V{n},p404,,\n" for n in range(120)))
    lines = cli("roll", "import", created, str(path)).err.splitlines()
    assert len(lines) == 52 and lines[0] == f"{path}:2: precinct_id 'p404': no such precinct in this election"
    assert lines[-2:] == ["... and 70 more", f"120 error(s) in {path}; nothing was imported"]


def test_a_corrected_file_can_be_imported_again_and_replaces_the_roll(cli, db, write, created):
    bad = write("roll.csv", GOOD + "V4,p404,,\n")
    assert cli("roll", "import", created, str(bad)).code == 1
    assert cli("roll", "import", created, str(write("roll.csv", GOOD + "V4,p099,,\n"))).code == 0
    assert set(voters(db)) == {"V1", "V2", "V3", "V4"}
    assert cli("roll", "import", created, str(write("roll.csv", HEADER + "V3,p099,,\nV5,p099,,\n"))).code == 0
    assert voters(db) == {"V3": ("p099", None, None), "V5": ("p099", None, None)}
    assert eligible(db) == {"p001": 0, "p002": 0, "p099": 2}
    assert db.val("SELECT count(*) FROM election_events WHERE action = 'roll_import'") == 2


def test_the_roll_is_frozen_once_the_election_has_opened(cli, db, write, created):
    cli("roll", "import", created, str(write("first.csv", GOOD)))
    cli("election", "open", created)
    result = cli("roll", "import", created, str(write("roll.csv", HEADER + "W1,p001,,\n")))
    assert result.code == 1 and "its roll is frozen while voting can happen" in result.err
    assert set(voters(db)) == {"V1", "V2", "V3"}


def test_the_roll_is_frozen_once_the_scheduled_opening_has_passed(cli, db, write, created):
    db.val("UPDATE elections SET opens_at = $1", datetime.now(timezone.utc) - timedelta(seconds=1))
    result = cli("roll", "import", created, str(write("roll.csv", GOOD)))
    assert result.code == 1 and "frozen" in result.err and voters(db) == {}


def test_importing_into_an_unknown_election_exits_2(cli, db, write):
    result = cli("roll", "import", "no-such", str(write("roll.csv", GOOD)))
    assert result.code == 2 and "no election 'no-such'" in result.err


def test_a_missing_roll_file_is_named(cli, created, tmp_path):
    result = cli("roll", "import", created, str(tmp_path / "nope.csv"))
    assert result.code == 1 and result.err.strip() == f"{tmp_path / 'nope.csv'}: no such file"


def test_a_line_that_is_not_utf8_is_reported_and_nothing_is_imported(cli, db, created, tmp_path):
    path = tmp_path / "roll.csv"
    path.write_bytes(GOOD.encode() + b"V\xe9,p001,,\n")
    result = cli("roll", "import", created, str(path))
    assert result.code == 1 and result.err.startswith(f"{path}:5: not UTF-8")
    assert voters(db) == {}
