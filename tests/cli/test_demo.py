"""`ballotline demo` / `ensure_demo`: the open demo election, created once."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from services.cli.demo import DEMO_ID, demo_private_key, ensure_demo
from services.common.election import contests_for
from services.common.elections_db import load_election


def test_the_demo_is_created_filled_and_opened(db, capsys):
    assert db.run(lambda c: ensure_demo(c, voters=2_000)) == DEMO_ID
    election = db.run(lambda c: load_election(c, DEMO_ID))
    d, now = election.definition, datetime.now(timezone.utc)
    assert d.title == "Demo city election 2026" and election.status(now) == "open"
    assert [(c.contest_id, len(c.options), c.max_choices) for c in d.contests] == [
        ("mayor", 4, 1), ("district-1", 3, 1), ("district-2", 3, 1), ("council", 7, 1)
    ]
    assert [c.contest_id for c in contests_for(d, "p02")] == ["mayor", "district-1", "council"]
    assert [c.contest_id for c in contests_for(d, "p20")] == ["mayor", "district-2", "council"]
    council = d.contests[3]
    assert (council.seats, council.threshold_percent, council.options[-1].kind) == (10, 5, "against_all")
    assert [p.precinct_id for p in d.precincts] == [f"p{i:02d}" for i in range(1, 21)]
    assert {p.precinct_id for p in d.precincts if p.channel == "paper"} == {"p19", "p20"}
    assert d.revoting is False and d.auth_methods == ["otp", "signature"]
    assert timedelta(days=29, hours=23) < election.closes_at - election.opens_at <= timedelta(days=30)
    assert {r["eligible"] for r in db.fetch("SELECT eligible FROM precincts")} == {100}
    assert [r["action"] for r in db.fetch("SELECT action FROM election_events ORDER BY event_id")] == ["create", "roll_import", "open"]
    assert "created and open" in capsys.readouterr().out


def test_demo_voters_have_phones_and_every_tenth_a_key_from_the_public_seed(db):
    db.run(lambda c: ensure_demo(c, voters=100))
    rows = {r["voter_id"]: r for r in db.fetch("SELECT voter_id, precinct_id, phone, public_key FROM voters")}
    assert len(rows) == 100
    assert rows["voter-000042"]["phone"] == "+15550000042" and rows["voter-000042"]["precinct_id"] == "p02"
    assert rows["voter-000042"]["public_key"] is None
    key = demo_private_key("voter-000030")
    assert rows["voter-000030"]["public_key"] == key.public_key().public_bytes_raw()
    assert sum(r["public_key"] is not None for r in rows.values()) == 10


def test_demo_keys_are_deterministic_and_sign_for_their_voter():
    message = b"ballotline-login:demo-2026:voter-000010:nonce"
    signature = demo_private_key("voter-000010").sign(message)
    demo_private_key("voter-000010").public_key().verify(signature, message)  # raises if not
    assert demo_private_key("voter-000010").private_bytes_raw() != demo_private_key("voter-000020").private_bytes_raw()


def test_running_the_demo_again_changes_nothing(db, cli):
    assert cli("demo", "--voters", "500").code == 0
    before = db.fetch("SELECT * FROM elections"), db.val("SELECT count(*) FROM election_events")
    handles = db.val("SELECT string_agg(handle, ',' ORDER BY voter_id) FROM voters")
    result = cli("demo")
    assert result.code == 0 and "already exists: open, 500 voters" in result.out and "nothing changed" in result.out
    assert (db.fetch("SELECT * FROM elections"), db.val("SELECT count(*) FROM election_events")) == before
    assert db.val("SELECT string_agg(handle, ',' ORDER BY voter_id) FROM voters") == handles


def test_a_closed_demo_is_reported_as_closed_and_left_alone(db, cli):
    cli("demo", "--voters", "100")
    cli("election", "close", DEMO_ID)
    result = cli("demo")
    assert result.code == 0 and "already exists: closed" in result.out and "is closed" in result.out


def test_the_default_demo_has_100000_voters_in_20_precincts(db, cli):
    started = time.perf_counter()
    assert cli("demo").code == 0
    assert time.perf_counter() - started < 30
    assert db.val("SELECT count(*) FROM voters WHERE election_id = $1", DEMO_ID) == 100_000
    assert {r["eligible"] for r in db.fetch("SELECT eligible FROM precincts")} == {5_000}
