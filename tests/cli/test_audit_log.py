"""The public audit log in Postgres, written by the operator commands: one entry per
change in the change's own transaction, who and why, never a voter; `ballotline audit
verify` finds an entry edited behind the trigger's back; Postgres refuses rewrites;
concurrent appends keep one chain."""
from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest

from services.common import audit_chain, audit_log
from services.common.elections_db import Change, record_event

from .conftest import HEADER, KEY, valid_yaml


def entries(db, election_id: str = "city-2026") -> list[dict]:
    return db.run(lambda c: audit_log.read(c, election_id))


@pytest.fixture
def story(cli, write):
    """create → roll import → open (all with --actor) → extend → policy, on a roll of two."""
    assert cli("election", "create", str(write("city.yaml", valid_yaml())), "--actor", "ana").code == 0
    roll = HEADER + f"V-1,p001,+15550001,\nV-2,p002,+15550002,{KEY}\n"
    assert cli("roll", "import", "city-2026", str(write("roll.csv", roll)), "--actor", "ana").code == 0
    assert cli("election", "open", "city-2026", "--actor", "ben", "--reason", "polls open").code == 0
    assert cli("election", "extend", "city-2026", "--until", "2099-01-01T00:00:00Z", "--actor", "ben",
               "--reason", "SMS outage").code == 0
    assert cli("election", "policy", "city-2026", "--auth-methods", "signature", "--actor", "cy",
               "--reason", "codes harvested").code == 0
    return "city-2026"


def test_every_change_is_an_entry_with_its_actor_reason_and_what_changed(story, db):
    log = entries(db)
    assert [(e["seq"], e["action"], e["actor"], e["reason"]) for e in log] == [
        (1, "election.create", "ana", None),
        (2, "roll.import", "ana", None),
        (3, "election.open", "ben", "polls open"),
        (4, "election.extend", "ben", "SMS outage"),
        (5, "election.policy", "cy", "codes harvested"),
    ]
    assert log[1]["details"] == {"voters": 2, "per_precinct": {"p001": 1, "p002": 1, "p099": 0}}
    assert log[3]["details"]["closes_at"] == "2099-01-01T00:00:00+00:00"
    assert log[4]["details"] == {"auth_methods": ["signature"], "previous_auth_methods": ["otp", "signature"],
                                 "removed": ["otp"]}
    assert audit_chain.first_broken(log) is None


def test_no_voter_identity_appears_in_the_log(story, db):
    text = json.dumps(entries(db))
    for identity in ("V-1", "V-2", "+15550001", "+15550002", KEY):
        assert identity not in text
    handles = [r["handle"] for r in db.fetch("SELECT handle FROM voters")]
    assert handles and not any(h in text for h in handles)


def test_audit_verify_passes_an_intact_log(story, cli):
    result = cli("audit", "verify", "city-2026")
    assert result.code == 0, result.err
    assert "intact: 5 entries" in result.out


async def _tamper(url: str, sql: str) -> None:
    # A superuser can switch the trigger off; the hash chain still tells.
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
            await conn.execute(sql)
            await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    finally:
        await conn.close()


def test_an_entry_edited_by_a_superuser_is_found_and_named(story, cli, db):
    asyncio.run(_tamper(db.url, "UPDATE audit_log SET details = '{\"voters\": 3, \"per_precinct\": {\"p001\": 2,"
                                " \"p002\": 1}}' WHERE seq = 2"))
    result = cli("audit", "verify", "city-2026")
    assert result.code == 1
    assert "broken at seq 2" in result.err


def test_an_entry_deleted_by_a_superuser_is_found_where_it_is_missing(story, cli, db):
    asyncio.run(_tamper(db.url, "DELETE FROM audit_log WHERE seq = 3"))
    result = cli("audit", "verify", "city-2026")
    assert result.code == 1 and "broken at seq 3" in result.err


def test_audit_verify_of_an_unknown_election_exits_2(cli, db):
    assert cli("audit", "verify", "nope").code == 2


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"])
def test_postgres_refuses_to_rewrite_the_log_even_to_its_owner(story, db, statement):
    with pytest.raises(asyncpg.RaiseError, match="audit_log is append-only"):
        db.val(statement)
    assert audit_chain.first_broken(entries(db)) is None


def test_concurrent_appends_to_one_election_keep_one_chain(created, db):
    async def go() -> None:
        conns = [await asyncpg.connect(db.url) for _ in range(12)]
        try:
            async def one(conn, i: int) -> None:
                async with conn.transaction():
                    await record_event(conn, "city-2026", "test.concurrent", Change(f"op-{i}", "race"), {"i": i})

            await asyncio.gather(*(one(c, i) for i, c in enumerate(conns)))
        finally:
            for c in conns:
                await c.close()

    asyncio.run(go())
    log = entries(db)
    assert [e["seq"] for e in log] == list(range(1, 14))
    assert sorted(e["details"]["i"] for e in log[1:]) == list(range(12))
    assert audit_chain.first_broken(log) is None


def test_an_append_outside_a_transaction_is_refused(created, db):
    with pytest.raises(RuntimeError, match="transaction"):
        db.run(lambda c: audit_log.append(c, "city-2026", actor="a", action="x"))


def test_a_change_that_fails_leaves_no_entry(created, cli, db, write):
    bad = HEADER + "V-1,p404,,\n"
    assert cli("roll", "import", "city-2026", str(write("roll.csv", bad))).code == 1
    assert [e["action"] for e in entries(db)] == ["election.create"]


def test_production_requires_an_actor_and_changes_nothing_without_one(created, cli, db, monkeypatch):
    monkeypatch.setenv("BALLOTLINE_ENV", "production")
    monkeypatch.delenv("BALLOTLINE_ACTOR", raising=False)
    result = cli("election", "open", "city-2026")
    assert result.code == 1 and "--actor" in result.err
    assert db.val("SELECT opens_at > now() FROM elections") is True
    assert len(entries(db)) == 1

    monkeypatch.setenv("BALLOTLINE_ACTOR", "night-shift")
    assert cli("election", "open", "city-2026").code == 0
    assert entries(db)[-1]["actor"] == "night-shift"


def test_the_actor_option_wins_over_the_environment(created, cli, db, monkeypatch):
    monkeypatch.setenv("BALLOTLINE_ACTOR", "from-env")
    assert cli("election", "close", "city-2026", "--actor", "from-flag").code == 0
    assert entries(db)[-1]["actor"] == "from-flag"


def test_the_migration_grants_the_log_to_operator_and_results_only(db):
    grants = db.fetch(
        "SELECT grantee, privilege_type FROM information_schema.role_table_grants"
        " WHERE table_name = 'audit_log' AND grantee LIKE 'ballotline_%' ORDER BY 1, 2"
    )
    assert [(g["grantee"], g["privilege_type"]) for g in grants] == [
        ("ballotline_operator", "INSERT"), ("ballotline_operator", "SELECT"), ("ballotline_results", "SELECT"),
    ]
