"""`ballotline election create | open | close` against a real Postgres."""
from __future__ import annotations

import asyncio
import json
from argparse import Namespace
from datetime import datetime, timedelta, timezone

import asyncpg

from services.cli import elections
from services.common.elections_db import CHANNEL, load_election
from tests.conftest import _create_database, _drop_database, _with_database

from .conftest import valid_yaml


def now() -> datetime:
    return datetime.now(timezone.utc)


def status(db, election_id: str = "city-2026") -> str:
    election = db.run(lambda c: load_election(c, election_id))
    return election.status(now())


def set_schedule(db, opens: datetime, closes: datetime, election_id: str = "city-2026") -> None:
    db.val("UPDATE elections SET opens_at = $2, closes_at = $3 WHERE election_id = $1", election_id, opens, closes)


def test_create_stores_the_election_its_precincts_and_an_audit_event(cli, db, write):
    result = cli("election", "create", str(write("city.yaml", valid_yaml())))
    assert result.code == 0 and result.err == ""
    assert "created election city-2026" in result.out and "roll import city-2026" in result.out
    assert status(db) == "scheduled"
    assert [r["precinct_id"] for r in db.fetch("SELECT precinct_id FROM precincts ORDER BY position")] == ["p001", "p002", "p099"]
    assert [r["action"] for r in db.fetch("SELECT action FROM election_events")] == ["create"]


def test_create_from_json_works_too(cli, db, write, tmp_path):
    import yaml

    path = write("city.json", json.dumps(yaml.safe_load(valid_yaml()), default=str))
    assert cli("election", "create", str(path)).code == 0
    assert db.val("SELECT title FROM elections") == "City council 2026"


def test_an_invalid_file_creates_nothing_and_lists_every_error_without_a_traceback(cli, db, write):
    text = valid_yaml(hours=-1).replace("max_choices: 1", "max_choices: 7")
    path = write("city.yaml", text)
    result = cli("election", "create", str(path))
    assert result.code == 1 and result.out == ""
    assert result.err.splitlines() == [
        f"{path}:4: closes_at: must be after opens_at",
        f"{path}:10: contests[0].max_choices: must be between 1 and the number of options (2)",
    ]
    assert "Traceback" not in result.err
    assert db.val("SELECT count(*) FROM elections") == 0


def test_a_missing_file_is_named(cli, tmp_path):
    result = cli("election", "create", str(tmp_path / "nope.yaml"))
    assert result.code == 1 and result.err.strip() == f"{tmp_path / 'nope.yaml'}: no such file"


def test_creating_an_existing_election_is_refused_and_changes_nothing(cli, db, write, created):
    path = write("again.yaml", valid_yaml().replace("City council 2026", "Another title"))
    result = cli("election", "create", str(path))
    assert result.code == 1 and "'city-2026' already exists" in result.err
    assert db.val("SELECT title FROM elections") == "City council 2026"
    assert db.val("SELECT count(*) FROM election_events") == 1


def test_a_past_opening_time_is_warned_about(cli, write):
    result = cli("election", "create", str(write("city.yaml", valid_yaml(opens=now() - timedelta(hours=1)))))
    assert result.code == 0 and "roll is frozen" in result.err


def test_open_moves_the_opening_to_now_and_records_it(cli, db, created):
    result = cli("election", "open", created)
    assert result.code == 0 and "is open now" in result.out
    assert status(db) == "open"
    (event,) = db.fetch("SELECT detail FROM election_events WHERE action = 'open'")
    assert "opens_at" in json.loads(event["detail"])


def test_open_warns_when_the_roll_is_empty(cli, created):
    assert "no voters on its roll" in cli("election", "open", created).err


def test_opening_an_open_election_changes_nothing(cli, db, created):
    cli("election", "open", created)
    result = cli("election", "open", created)
    assert result.code == 0 and "already open" in result.out
    assert db.val("SELECT count(*) FROM election_events WHERE action = 'open'") == 1


def test_a_closed_election_is_never_reopened(cli, db, created):
    cli("election", "close", created)
    result = cli("election", "open", created)
    assert result.code == 1 and "cannot be reopened" in result.err
    assert status(db) == "closed"


def test_an_election_past_its_scheduled_close_is_not_reopened(cli, db, created):
    set_schedule(db, now() - timedelta(days=2), now() - timedelta(days=1))
    result = cli("election", "open", created)
    assert result.code == 1 and "cannot be reopened" in result.err


def test_close_moves_the_closing_to_now(cli, db, created):
    set_schedule(db, now() - timedelta(hours=1), now() + timedelta(hours=5))
    result = cli("election", "close", created)
    assert result.code == 0 and "is closed now" in result.out
    assert status(db) == "closed"
    assert db.val("SELECT count(*) FROM election_events WHERE action = 'close'") == 1


def test_closing_an_election_that_never_opened_leaves_it_closed(cli, db, created):
    assert cli("election", "close", created).code == 0
    row = db.fetch("SELECT opens_at, closes_at FROM elections")[0]
    assert row["opens_at"] <= row["closes_at"] <= now()
    assert status(db) == "closed"


def test_closing_a_closed_election_changes_nothing(cli, db, created):
    cli("election", "close", created)
    result = cli("election", "close", created)
    assert result.code == 0 and "already closed" in result.out
    assert db.val("SELECT count(*) FROM election_events WHERE action = 'close'") == 1


def test_open_and_close_name_an_unknown_election_with_exit_2(cli):
    for command in ("open", "close"):
        result = cli("election", command, "no-such")
        assert result.code == 2 and "no election 'no-such'" in result.err


async def test_open_notifies_the_running_services(service_env, database_url, write, db):
    # The command's handlers, awaited in this test's loop (main() would start its own).
    assert await elections.run_create(Namespace(file=str(write("city.yaml", valid_yaml())))) == 0
    conn = await asyncpg.connect(database_url)
    heard: asyncio.Queue[str] = asyncio.Queue()
    await conn.add_listener(CHANNEL, lambda *args: heard.put_nowait(args[-1]))
    try:
        assert await elections.run_open(Namespace(election_id="city-2026")) == 0
        assert await asyncio.wait_for(heard.get(), 1) == "city-2026"
    finally:
        await conn.close()


def test_an_unreachable_database_is_reported_plainly(cli, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://ballotline@127.0.0.1:1/none")
    result = cli("election", "open", "city-2026")
    assert result.code == 3 and result.err.startswith("error: cannot reach the database")


def test_a_database_without_tables_asks_for_a_migration(cli, monkeypatch, postgres_server_url):
    name = "ballotline_cli_unmigrated"
    asyncio.run(_drop_database(postgres_server_url, name))
    asyncio.run(_create_database(postgres_server_url, name))
    try:
        monkeypatch.setenv("DATABASE_URL", _with_database(postgres_server_url, name))
        result = cli("election", "open", "city-2026")
    finally:
        asyncio.run(_drop_database(postgres_server_url, name))
    assert result.code == 3 and "ballotline db migrate" in result.err


def test_operator_commands_run_as_the_operator_role_unless_told_otherwise(monkeypatch):
    from services.cli.context import operator_role

    monkeypatch.delenv("DATABASE_ROLE", raising=False)
    assert operator_role() == "ballotline_operator"
    monkeypatch.setenv("DATABASE_ROLE", "")
    assert operator_role() is None


def test_a_command_refused_to_the_configured_role_exits_3_and_names_the_role(cli, write, monkeypatch):
    monkeypatch.setenv("DATABASE_ROLE", "ballotline_results")  # read-only: cannot create elections
    result = cli("election", "create", str(write("city.yaml", valid_yaml())))
    assert result.code == 3, result.err
    assert "permission denied" in result.err and "DATABASE_ROLE=ballotline_results" in result.err
