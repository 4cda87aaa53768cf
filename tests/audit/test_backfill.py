"""Migration 0007 turns the `election_events` already recorded into the first entries of
each election's chain, hashed in SQL exactly as audit_chain hashes them in Python."""
from __future__ import annotations

import asyncpg

from services.common import audit_chain, audit_log
from services.common.elections_db import Change, record_event
from services.common.migrate import available, migrate
from tests.conftest import _create_database, _drop_database, _with_database

EVENTS = [
    ("old-1", "create", "ops", "{}"),
    ("old-2", "create", "Zoë \"the\" operator\\", "{}"),
    ("old-1", "roll_import", "ops", '{"voters": 100000}'),
    ("old-1", "open", "ops", '{"opens_at": "2026-11-21T06:00:00+00:00", "closes_at": "2026-11-21T20:00:00+00:00"}'),
    ("old-2", "close", "ops\tnight", '{"b": [1, {"é": null, "a": true}], "a": "\\u0001 line\\nbreak", "Z": -5}'),
]


async def test_existing_events_become_each_elections_first_entries(postgres_server_url):
    name = "ballotline_backfill"
    await _drop_database(postgres_server_url, name)
    await _create_database(postgres_server_url, name)
    try:
        conn = await asyncpg.connect(_with_database(postgres_server_url, name))
        try:
            await conn.execute("CREATE TABLE schema_migrations (name text PRIMARY KEY,"
                               " applied_at timestamptz NOT NULL DEFAULT now())")
            for migration, sql in available():
                if migration < "0007":
                    await conn.execute(sql)
                    await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", migration)
            for election_id in ("old-1", "old-2"):
                await conn.execute(
                    "INSERT INTO elections (election_id, title, definition, opens_at, closes_at, auth_methods)"
                    " VALUES ($1, 'Old', '{}', now(), now() + interval '1 day', '{otp}')", election_id)
            for i, (election_id, action, actor, detail) in enumerate(EVENTS):
                await conn.execute(
                    "INSERT INTO election_events (election_id, at, action, actor, detail)"
                    " VALUES ($1, now() + make_interval(secs => $2 * 1.000001), $3, $4, $5::jsonb)",
                    election_id, float(i), action, actor, detail)
            assert await migrate(conn) == [m for m, _ in available() if m >= "0007"]
            old1, old2 = await audit_log.read(conn, "old-1"), await audit_log.read(conn, "old-2")
            async with conn.transaction():  # the chain goes on from the backfilled head
                await record_event(conn, "old-1", "election.close", Change("new-ops", "done"))
            continued = await audit_log.read(conn, "old-1")
        finally:
            await conn.close()
    finally:
        await _drop_database(postgres_server_url, name)
    assert [(e["seq"], e["action"], e["actor"]) for e in old1] == [
        (1, "election.create", "ops"), (2, "roll.import", "ops"), (3, "election.open", "ops")]
    assert [(e["seq"], e["action"], e["actor"]) for e in old2] == [
        (1, "election.create", 'Zoë "the" operator\\'), (2, "election.close", "ops\tnight")]
    assert old2[1]["details"] == {"b": [1, {"é": None, "a": True}], "a": "\x01 line\nbreak", "Z": -5}
    assert old1[1]["details"] == {"voters": 100000} and old1[0]["reason"] is None
    assert audit_chain.first_broken(old1) is None
    assert audit_chain.first_broken(old2) is None
    assert audit_chain.first_broken(continued) is None and continued[-1]["seq"] == 4
