"""Test harness: real Postgres and Redis for every test that touches storage.

By default the suite starts its own embedded Postgres and Redis in a temporary folder
(nothing on the machine is touched). Set TEST_DATABASE_URL (a server where a fresh
database is created for the run and dropped after) and/or TEST_REDIS_URL (a Redis whose
database is flushed by the tests!) to use servers of your own. Every test starts from
empty tables and an empty Redis.
"""
from __future__ import annotations

import asyncio
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import redis.asyncio as aioredis

from services.common.embedded import EmbeddedPostgres, EmbeddedRedis
from services.common.migrate import migrate
from tests.tally_keys import ENV as TALLY_ENV


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


async def _create_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _migrate(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory):
    """A Postgres server to create test databases on (its `postgres` database)."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg"), delete_on_exit=True)
    try:
        yield server.url("postgres")
    finally:
        server.stop()


@pytest.fixture(scope="session")
def database_url(postgres_server_url):
    """A fresh, migrated database for this test run."""
    name = f"ballotline_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_create_database(postgres_server_url, name))
    url = _with_database(postgres_server_url, name)
    asyncio.run(_migrate(url))
    yield url
    asyncio.run(_drop_database(postgres_server_url, name))


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    configured = os.environ.get("TEST_REDIS_URL")
    if configured:
        yield configured
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server.url()
    finally:
        server.stop()


@pytest.fixture
def service_env(database_url, redis_url, monkeypatch):
    """Environment for code under test that reads its configuration from the environment."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("BALLOTLINE_ENV", "development")
    for name, value in TALLY_ENV.items():
        monkeypatch.setenv(name, value)
    return {"DATABASE_URL": database_url, "REDIS_URL": redis_url, **TALLY_ENV}


async def _truncate_all(conn: asyncpg.Connection) -> None:
    tables = await conn.fetch(
        "SELECT quote_ident(tablename) AS t FROM pg_tables"
        " WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
    )
    if tables:
        await conn.execute(f"TRUNCATE {', '.join(r['t'] for r in tables)} RESTART IDENTITY CASCADE")


@pytest.fixture
async def pool(database_url):
    """A pool on the test database, every table emptied first."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=10)
    async with pool.acquire() as conn:
        await _truncate_all(conn)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def redis(redis_url):
    client = aioredis.from_url(redis_url)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def scrape_metrics():
    """Scrape this process's metrics the way Prometheus does: over HTTP from the internal
    metrics listener (the public port has no /metrics). Call it to get the text."""
    import aiohttp

    from services.common.metrics_listener import MetricsListener

    listener = MetricsListener("127.0.0.1", 0).start()

    async def scrape() -> str:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{listener.port}/metrics") as response:
                assert response.status == 200
                return await response.text()

    try:
        yield scrape
    finally:
        listener.stop()
