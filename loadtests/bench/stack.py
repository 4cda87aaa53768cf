"""Postgres and Redis for one benchmark run, and everything stopped afterwards.

`fresh_database` makes a new database on the server named by DATABASE_URL (else on an
embedded Postgres in the run's temporary folder) and drops it at the end; with
`redis=True` it also gives REDIS_URL, else an embedded Redis. `embedded_stack` always
starts both embedded, and uses their default database."""
from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg


@dataclass
class Stack:
    url: str  # the benchmark's own database
    redis_url: str | None
    embedded: bool  # Postgres started here rather than named by DATABASE_URL

    @property
    def postgres(self) -> str:
        """How the results JSON names where Postgres ran."""
        return "embedded (pgserver)" if self.embedded else "DATABASE_URL"


async def admin(server_url: str, sql: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def fresh_database(tmp: Path, *, prefix: str, redis: bool = False) -> Iterator[Stack]:
    server, redis_url, embedded, embedded_redis = os.environ.get("DATABASE_URL"), None, None, None
    if not server:
        from services.common.embedded import EmbeddedPostgres

        embedded = EmbeddedPostgres(tmp / "pg", delete_on_exit=True)
        server = embedded.url("postgres")
    if redis:
        redis_url = os.environ.get("REDIS_URL")
        if not redis_url:
            from services.common.embedded import EmbeddedRedis

            embedded_redis = EmbeddedRedis(tmp / "redis").start()
            redis_url = embedded_redis.url()
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    asyncio.run(admin(server, f'CREATE DATABASE "{name}"'))
    try:
        url = urlunsplit(urlsplit(server)._replace(path="/" + name))
        yield Stack(url, redis_url, embedded is not None)
    finally:
        asyncio.run(admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if embedded_redis:
            embedded_redis.stop()
        if embedded:
            embedded.stop()


@contextmanager
def embedded_stack(tmp: Path) -> Iterator[tuple[str, str]]:
    """(database URL, Redis URL) of a Postgres and a Redis started in `tmp`."""
    from services.common.embedded import EmbeddedPostgres, EmbeddedRedis

    postgres = EmbeddedPostgres(tmp / "pg", delete_on_exit=True)
    redis = EmbeddedRedis(tmp / "redis").start()
    try:
        yield postgres.url(), redis.url()
    finally:
        redis.stop()
        postgres.stop()


def tally_env() -> dict[str, str]:
    """A fresh tally key pair for one benchmark run, as the services read it."""
    from services.common.sealed_box import generate_pem

    private, public = generate_pem()
    return {"TALLY_PRIVATE_KEY": private.decode(), "TALLY_PUBLIC_KEY": public.decode()}
