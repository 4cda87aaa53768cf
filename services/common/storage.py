"""Postgres and Redis clients living and dying with the application (cleanup contexts),
registered as readiness checks. DSNs are logged with their password censored.
"""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import redis.asyncio as aioredis
from aiohttp import web

from .roles import role_settings
from .settings import Secret
from .web import HEALTH

log = logging.getLogger(__name__)

PG = web.AppKey("pg", asyncpg.Pool)
REDIS = web.AppKey("redis", aioredis.Redis)


def censored(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


class RoleKeepingConnection(asyncpg.Connection):
    """asyncpg's `RESET ALL` on release leaves `role` alone (Postgres exempts it), so a
    `SET ROLE` in one use of a connection would outlive the release. `RESET ROLE` goes
    back to the role of the startup packet, the pool's."""

    def get_reset_query(self) -> str:
        return super().get_reset_query() + "\nRESET ROLE;"


async def create_pool(
    dsn: str,
    *,
    min_size: int = 2,
    max_size: int = 10,
    name: str = "ballotline",
    server_settings: dict[str, str] | None = None,
    role: str | None = None,
) -> asyncpg.Pool:
    """A pool whose every session runs as `role` (services/common/roles.py), if given."""
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        server_settings={"application_name": name, **(server_settings or {}), **role_settings(role)},
        connection_class=RoleKeepingConnection,
    )


def pg_context(
    dsn: Secret,
    *,
    min_size: int = 2,
    max_size: int = 10,
    name: str = "ballotline",
    server_settings: dict[str, str] | None = None,
    role: str | None = None,
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        log.info("connecting to postgres at %s as role %s", censored(dsn.reveal()), role or "(the login user)")
        pool = await create_pool(
            dsn.reveal(),
            min_size=min(min_size, max_size),
            max_size=max_size,
            name=name,
            server_settings=server_settings,
            role=role,
        )
        app[PG] = pool

        async def check() -> None:
            async with pool.acquire() as conn:
                await conn.fetchval("SELECT 1")

        app[HEALTH].checks["postgres"] = check
        try:
            yield
        finally:
            await pool.close()

    return ctx


def redis_context(url: Secret) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        log.info("connecting to redis at %s", censored(url.reveal()))
        client = aioredis.from_url(url.reveal(), socket_timeout=5, socket_connect_timeout=5)
        app[REDIS] = client
        app[HEALTH].checks["redis"] = client.ping
        try:
            yield
        finally:
            await client.aclose()

    return ctx
