"""Where the operator CLI finds the system: the same configuration as the running
services (DATABASE_URL, or the embedded Postgres in the project's data folder)."""
from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

import asyncpg

from services.common.embedded import EmbeddedPostgres, data_dir

_embedded: EmbeddedPostgres | None = None


def database_url() -> str:
    global _embedded
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return configured
    if _embedded is None:
        _embedded = EmbeddedPostgres(data_dir() / "pg")
    return _embedded.url()


@contextlib.asynccontextmanager
async def connect() -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url())
    try:
        yield conn
    finally:
        await conn.close()
