"""Least privilege (migration 0006_roles.sql): each service's Postgres role is refused
what it must never do, history cannot be rewritten even by the owner, and a pool keeps
its role across asyncpg's reset of released connections.

That each service's normal path works under its role is proven by the rest of the
suite: the apps start with their default DATABASE_ROLE, the tally tests run the worker
on a ballotline_tally pool, and the CLI tests run as ballotline_operator.
"""
from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from services.common import roles
from services.common.storage import PG, create_pool
from services.results.app import TALLY
from tests.tally_keys import ENV as TALLY_ENV
from tests.test_end_to_end import system  # noqa: F401 - the three services, started with their defaults

TABLES = (
    "elections", "precincts", "voters", "election_events", "signing_keys", "ballots", "tally_outbox",
    "participation", "idempotency_keys", "tally_votes", "tally_contests", "tally_precincts",
    "results_snapshots", "results_heads", "schema_migrations", "participation_counts", "audit_log",
)


async def _column(conn: asyncpg.Connection, table: str) -> str:
    """A column an UPDATE may name (identity columns refuse any value before privileges)."""
    return await conn.fetchval(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND is_identity = 'NO'"
        " ORDER BY ordinal_position LIMIT 1",
        table,
    )


def _writes(table: str, column: str) -> list[str]:
    return [
        f"INSERT INTO {table} DEFAULT VALUES",
        f"UPDATE {table} SET {column} = {column}",
        f"DELETE FROM {table}",
        f"TRUNCATE {table}",
    ]


async def _refused(database_url: str, role: str, statement: str) -> None:
    conn = await asyncpg.connect(database_url, server_settings={"role": role})
    try:
        assert await conn.fetchval("SELECT current_user") == role
        tx = conn.transaction()
        await tx.start()
        try:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
        finally:
            await tx.rollback()
    finally:
        await conn.close()


def test_the_migration_created_every_role_without_login(database_url):
    async def go():
        conn = await asyncpg.connect(database_url)
        try:
            return {r[0]: r[1] for r in await conn.fetch("SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ANY($1)", list(roles.ALL))}
        finally:
            await conn.close()

    import asyncio

    assert asyncio.run(go()) == {role: False for role in roles.ALL}


@pytest.mark.parametrize(
    "statement",
    ["SELECT selections FROM ballots", "SELECT * FROM ballots", "SELECT * FROM participation", "SELECT * FROM voters",
     "SELECT * FROM idempotency_keys", "SELECT * FROM signing_keys", "SELECT * FROM tally_outbox"],
)
async def test_results_reads_only_what_it_serves(database_url, pool, statement):
    await _refused(database_url, roles.RESULTS, statement)


async def test_results_cannot_write_anywhere(database_url, pool):
    async with pool.acquire() as conn:
        columns = {t: await _column(conn, t) for t in TABLES}
    for table in TABLES:
        for statement in _writes(table, columns[table]):
            await _refused(database_url, roles.RESULTS, statement)


@pytest.mark.parametrize("role", roles.ALL)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE results_snapshots SET body = body",
        "DELETE FROM results_snapshots",
        "TRUNCATE results_snapshots",
        "UPDATE election_events SET detail = detail",
        "DELETE FROM election_events",
        "UPDATE audit_log SET actor = actor",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ],
)
async def test_nobody_rewrites_published_history_or_the_audit_trail(database_url, pool, role, statement):
    await _refused(database_url, role, statement)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT selections FROM ballots",
        "SELECT precinct_id FROM ballots",
        "SELECT receipt_id FROM ballots",
        "SELECT count(*) FROM tally_outbox",
        "SELECT voter_id FROM voters",
        "SELECT votes FROM tally_votes",
        "SELECT body FROM results_snapshots",
        "DELETE FROM participation",
    ],
)
async def test_vote_cannot_read_choices_the_roll_or_the_counts(database_url, pool, statement):
    await _refused(database_url, roles.VOTE, statement)


async def test_vote_has_no_access_to_ballots_at_all(database_url, pool):
    for statement in ("SELECT ballot_id, election_id, superseded, annulled FROM ballots",
                      "UPDATE ballots SET superseded = true", "INSERT INTO ballots (ballot_id) VALUES (gen_random_uuid())"):
        await _refused(database_url, roles.VOTE, statement)


async def test_the_tally_reads_how_many_voted_never_who(database_url, pool):
    for statement in ("SELECT election_id FROM participation", "SELECT voter FROM participation",
                      "SELECT sealed_ballot FROM participation"):
        await _refused(database_url, roles.TALLY, statement)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM participation",
        "SELECT * FROM ballots",
        "SELECT election_id FROM ballots",
        "SELECT * FROM tally_outbox",
        "SELECT * FROM tally_votes",
        "SELECT * FROM tally_contests",
        "SELECT * FROM tally_precincts",
        "SELECT * FROM idempotency_keys",
        "SELECT * FROM results_snapshots",
        "UPDATE voters SET phone = phone",
        "UPDATE elections SET title = title",
    ],
)
async def test_auth_reads_only_the_roll_and_its_keys(database_url, pool, statement):
    await _refused(database_url, roles.AUTH, statement)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE elections SET title = title",
        "UPDATE elections SET closes_at = now()",
        "SELECT voter FROM participation",
        "SELECT sealed_ballot FROM participation",
        "SELECT * FROM participation",
        "UPDATE ballots SET selections = selections",
        "DELETE FROM ballots",
        "SELECT voter_id, phone FROM voters",
        "SELECT * FROM idempotency_keys",
        "INSERT INTO participation DEFAULT VALUES",
    ],
)
async def test_tally_never_sees_who_voted(database_url, pool, statement):
    await _refused(database_url, roles.TALLY, statement)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM ballots",
        "SELECT * FROM participation",
        "SELECT * FROM tally_outbox",
        "SELECT * FROM election_events",
        "SELECT * FROM signing_keys",
        "INSERT INTO results_snapshots DEFAULT VALUES",
    ],
)
async def test_operator_manages_elections_and_rolls_only(database_url, pool, statement):
    await _refused(database_url, roles.OPERATOR, statement)


async def test_the_tally_reads_the_participation_count(database_url, pool):
    conn = await asyncpg.connect(database_url, server_settings={"role": roles.TALLY})
    try:
        assert await conn.fetchval("SELECT coalesce(sum(voters), 0) FROM participation_counts") == 0
    finally:
        await conn.close()


async def _published(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO elections (election_id, title, definition, opens_at, closes_at, auth_methods)"
        " VALUES ('e1', 'E', '{}', now(), now() + interval '1 hour', '{otp}')"
    )
    await pool.execute(
        "INSERT INTO results_snapshots (election_id, scope, version, digest, body) VALUES ('e1', '', 1, 'd', '{}')"
    )


@pytest.mark.parametrize(
    "statement",
    ["UPDATE results_snapshots SET digest = 'forged'", "DELETE FROM results_snapshots", "DELETE FROM elections"],
)
async def test_even_the_owner_cannot_rewrite_published_snapshots(pool, statement):
    await _published(pool)
    with pytest.raises(asyncpg.RaiseError, match="results_snapshots is append-only"):
        await pool.execute(statement)
    assert await pool.fetchval("SELECT digest FROM results_snapshots") == "d"


async def test_even_the_owner_cannot_rewrite_the_audit_trail(pool):
    await _published(pool)
    await pool.execute("INSERT INTO election_events (election_id, action, actor) VALUES ('e1', 'create', 'me')")
    with pytest.raises(asyncpg.RaiseError, match="election_events is append-only"):
        await pool.execute("UPDATE election_events SET actor = 'someone else'")
    with pytest.raises(asyncpg.RaiseError, match="election_events is append-only"):
        await pool.execute("DELETE FROM election_events")


async def test_each_service_and_the_tally_connect_as_their_own_role(system):  # noqa: F811
    auth, vote, results = system
    for client, role in ((auth, roles.AUTH), (vote, roles.VOTE), (results, roles.RESULTS)):
        assert await client.server.app[PG].fetchval("SELECT current_user") == role
    assert await results.server.app[TALLY].pool.fetchval("SELECT current_user") == roles.TALLY


async def test_a_released_connection_comes_back_as_the_pool_role_not_the_login_user(database_url, pool):
    login = await pool.fetchval("SELECT session_user")
    role_pool = await create_pool(database_url, min_size=1, max_size=1, role=roles.VOTE)
    try:
        async with role_pool.acquire() as conn:
            first = conn.get_server_pid()
            assert await conn.fetchval("SELECT current_user") == roles.VOTE
            await conn.execute("SET ROLE NONE")  # what a careless session could do
            assert await conn.fetchval("SELECT current_user") == login
        async with role_pool.acquire() as conn:  # released: asyncpg ran RESET ALL
            assert conn.get_server_pid() == first
            assert await conn.fetchval("SELECT current_user") == roles.VOTE
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetch("SELECT selections FROM ballots")
    finally:
        await role_pool.close()


async def test_an_empty_role_means_the_login_user(database_url, pool):
    login = await pool.fetchval("SELECT session_user")
    plain = await create_pool(database_url, min_size=1, max_size=1, role=None)
    try:
        assert await plain.fetchval("SELECT current_user") == login
    finally:
        await plain.close()


async def test_a_login_user_outside_the_group_cannot_assume_its_role(database_url, pool):
    """Production maps a login user per service (README "Database roles")."""
    login = f"ballotline_test_login_{uuid.uuid4().hex[:8]}"
    await pool.execute(f"CREATE ROLE {login} LOGIN")
    parts = urlsplit(database_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    url = urlunsplit(parts._replace(netloc=f"{login}@{host}"))
    try:
        try:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await asyncpg.connect(url, server_settings={"role": roles.RESULTS})
        except (asyncpg.InvalidAuthorizationSpecificationError, asyncpg.InvalidPasswordError):
            pytest.skip("this server does not let a password-less test user log in")
        await pool.execute(f"GRANT {roles.RESULTS} TO {login}")
        conn = await asyncpg.connect(url, server_settings={"role": roles.RESULTS})
        try:
            assert await conn.fetchval("SELECT current_user") == roles.RESULTS
            assert await conn.fetchval("SELECT count(*) FROM results_heads") == 0
        finally:
            await conn.close()
    finally:
        await pool.execute(f"DROP OWNED BY {login}")
        await pool.execute(f"DROP ROLE {login}")


def test_each_service_defaults_to_its_role_and_an_empty_one_means_the_login_user():
    from services.auth.app import load_settings as auth
    from services.common.settings import Env
    from services.results.app import load_settings as results
    from services.vote.app import load_settings as vote

    env = {"DATABASE_URL": "postgresql://x@h/db", "REDIS_URL": "redis://h", "BALLOTLINE_ENV": "development", **TALLY_ENV}
    assert auth(Env(env)).common.database_role == roles.AUTH
    assert vote(Env(env)).common.database_role == roles.VOTE
    assert results(Env(env)).common.database_role == roles.RESULTS
    assert results(Env(env)).tally.database_role == roles.TALLY
    custom = results(Env({**env, "DATABASE_ROLE": "results_login", "TALLY_DATABASE_ROLE": ""}))
    assert custom.common.database_role == "results_login" and custom.tally.database_role is None
    assert vote(Env({**env, "DATABASE_ROLE": ""})).common.database_role is None
