"""Where the operator CLI finds the system: the same configuration as the running
services (DATABASE_URL, or the embedded Postgres in the project's data folder).

Operator commands run as DATABASE_ROLE (default ballotline_operator: definitions, the
roll, the audit trail); `db migrate` runs as the login user, the owner of the tables."""
from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

import asyncpg

from services.common import roles
from services.common.embedded import EmbeddedPostgres, data_dir
from services.common.settings import Env

_embedded: EmbeddedPostgres | None = None


def database_url() -> str:
    global _embedded
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return configured
    if _embedded is None:
        _embedded = EmbeddedPostgres(data_dir() / "pg")
    return _embedded.url()


def operator_role() -> str | None:
    return roles.database_role(Env(), roles.OPERATOR)


@contextlib.asynccontextmanager
async def connect() -> AsyncIterator[asyncpg.Connection]:
    """A connection as the login user (migrations)."""
    conn = await asyncpg.connect(database_url())
    try:
        yield conn
    finally:
        await conn.close()
