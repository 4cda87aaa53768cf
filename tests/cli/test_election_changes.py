"""`ballotline election extend | policy` against a real Postgres: what they change, what
they refuse (API.md "Changing a running election"), each refusal leaving nothing behind."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import asyncpg
import msgspec
import pytest

from services.common.elections_db import CHANNEL, load_election
from tests.operator_cli import ballotline


def now() -> datetime:
    return datetime.now(timezone.utc)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def closes_at(db) -> datetime:
    return db.val("SELECT closes_at FROM elections WHERE election_id = 'city-2026'")


def audit_actions(db) -> list[str]:
    return [r["action"] for r in db.fetch("SELECT action FROM audit_log ORDER BY seq")]


def extend(cli, until: str, *extra: str):
    return cli("election", "extend", "city-2026", "--until", until, "--reason", "queues at the polls", *extra)


def policy(cli, methods: str, *extra: str, election_id: str = "city-2026"):
    return cli("election", "policy", election_id, "--auth-methods", methods, "--reason", "codes harvested", *extra)


def test_extend_moves_the_close_of_a_scheduled_election_later(created, cli, db):
    until = (closes_at(db) + timedelta(hours=2)).replace(microsecond=0)
    result = extend(cli, iso(until))
    assert result.code == 0, result.err
    assert "now closes" in result.out
    assert closes_at(db) == until
    assert audit_actions(db) == ["election.create", "election.extend"]


def test_extend_moves_the_close_of_an_open_election_later(created, cli, db):
    assert cli("election", "open", "city-2026").code == 0
    until = closes_at(db) + timedelta(minutes=30)
    assert extend(cli, until.isoformat()).code == 0
    election = db.run(lambda c: load_election(c, "city-2026"))
    assert election.status(now()) == "open" and election.closes_at == until


@pytest.mark.parametrize("delta", [timedelta(hours=-1), timedelta(0)])
def test_extend_to_an_earlier_or_the_same_time_is_refused(created, cli, db, delta):
    before = closes_at(db)
    result = extend(cli, (before + delta).isoformat())
    assert result.code == 1 and "not later than" in result.err
    assert closes_at(db) == before and audit_actions(db) == ["election.create"]


def test_extend_of_a_closed_election_is_refused(created, cli, db):
    assert cli("election", "close", "city-2026").code == 0
    result = extend(cli, iso(now() + timedelta(days=3)))
    assert result.code == 1 and "cannot be extended" in result.err
    assert closes_at(db) <= now()
    assert audit_actions(db) == ["election.create", "election.close"]


def test_extend_needs_a_time_with_a_zone(created, cli, db):
    for bad in ("tomorrow", "2099-01-01T00:00:00"):
        result = extend(cli, bad)
        assert result.code == 1 and "RFC 3339" in result.err
    assert audit_actions(db) == ["election.create"]


def test_extend_and_policy_need_a_reason(created, cli, db):
    with pytest.raises(SystemExit):  # argparse: the option is missing
        cli("election", "extend", "city-2026", "--until", "2099-01-01T00:00:00Z")
    result = cli("election", "policy", "city-2026", "--auth-methods", "signature", "--reason", "  ")
    assert result.code == 1 and "--reason" in result.err
    assert audit_actions(db) == ["election.create"]


def test_extend_and_policy_of_an_unknown_election_exit_2(db, cli):
    assert cli("election", "extend", "nope", "--until", "2099-01-01T00:00:00Z", "--reason", "r").code == 2
    assert policy(cli, "signature", election_id="nope").code == 2


def test_policy_replaces_the_methods_in_the_row_and_the_definition_services_load(created, cli, db):
    result = policy(cli, "signature")
    assert result.code == 0, result.err
    assert "now allows login by signature (was otp, signature)" in result.out
    assert db.val("SELECT auth_methods FROM elections") == ["signature"]
    election = db.run(lambda c: load_election(c, "city-2026"))
    assert election.definition.auth_methods == ["signature"]
    assert policy(cli, "signature,otp").code == 0
    assert db.run(lambda c: load_election(c, "city-2026")).definition.auth_methods == ["signature", "otp"]
    assert audit_actions(db) == ["election.create", "election.policy", "election.policy"]


def test_policy_that_changes_nothing_says_so_and_writes_no_entry(created, cli, db):
    result = policy(cli, "otp,signature")
    assert result.code == 0 and "nothing changed" in result.out
    assert audit_actions(db) == ["election.create"]


@pytest.mark.parametrize("methods", ["", "sms", "signature,password", "otp,otp"])
def test_policy_refuses_unknown_empty_or_repeated_methods(created, cli, db, methods):
    result = policy(cli, methods)
    assert result.code == 1 and "--auth-methods" in result.err
    assert db.val("SELECT auth_methods FROM elections") == ["otp", "signature"]
    assert audit_actions(db) == ["election.create"]


def test_policy_of_a_closed_election_is_refused(created, cli, db):
    assert cli("election", "close", "city-2026").code == 0
    result = policy(cli, "signature")
    assert result.code == 1 and "closed" in result.err
    assert db.val("SELECT auth_methods FROM elections") == ["otp", "signature"]


def test_extend_and_policy_notify_the_running_services(created, db):
    until = iso(closes_at(db) + timedelta(hours=1))

    async def listen_while_changing() -> list[str]:
        conn = await asyncpg.connect(db.url)
        heard: list[str] = []
        await conn.add_listener(CHANNEL, lambda *a: heard.append(a[3]))
        assert await ballotline("election", "extend", "city-2026", "--until", until, "--reason", "queues") == 0
        assert await ballotline("election", "policy", "city-2026", "--auth-methods", "signature", "--reason", "r") == 0
        await asyncio.sleep(0.2)
        await conn.close()
        return heard

    assert asyncio.run(listen_while_changing()) == ["city-2026", "city-2026"]
    assert msgspec.json.decode(db.val("SELECT definition::text FROM elections"))["auth_methods"] == ["signature"]
