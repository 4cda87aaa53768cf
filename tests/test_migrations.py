import asyncpg

from services.common.migrate import available, migrate
from tests.conftest import _create_database, _drop_database, _with_database


async def test_migrations_apply_to_an_empty_database_and_reapply_as_a_no_op(postgres_server_url):
    name = "ballotline_migrate_from_empty"
    await _drop_database(postgres_server_url, name)
    await _create_database(postgres_server_url, name)
    try:
        conn = await asyncpg.connect(_with_database(postgres_server_url, name))
        try:
            first = await migrate(conn)
            second = await migrate(conn)
            tables = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
        finally:
            await conn.close()
    finally:
        await _drop_database(postgres_server_url, name)
    assert first == [name for name, _ in available()]
    assert second == []
    assert {"elections", "precincts", "voters", "election_events", "signing_keys"} <= tables


def test_migrations_are_numbered_uniquely_and_applied_in_number_order():
    # Gaps are allowed: branches reserve numbers (0006_roles was written while 0005 was
    # in flight), and the runner applies whatever is missing, in name order.
    names = [name for name, _ in available()]
    numbers = [int(name.split("_", 1)[0]) for name in names]
    assert names == sorted(names)
    assert len(set(numbers)) == len(numbers)
    assert all(name[:4].isdigit() and name[4] == "_" for name in names)
