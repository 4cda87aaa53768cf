"""Ordered plain-SQL migrations (services/migrations/NNNN_name.sql), applied once each,
in order, each in its own transaction, under an advisory lock so that concurrent
starters do not race. Re-running applies nothing new.

Numbers may have gaps (a branch reserves its number while another is in flight). The
runner applies whatever is missing, in name order: a lower number merged later runs
after higher ones already applied on an existing database, so a migration must not rely
on running before the ones numbered after it.
"""
from __future__ import annotations

import logging
from importlib import resources

import asyncpg

log = logging.getLogger(__name__)
_LOCK_ID = 0x62616C6C  # "ball"


def available() -> list[tuple[str, str]]:
    files = resources.files("services.migrations")
    names = sorted(p.name for p in files.iterdir() if p.name.endswith(".sql"))
    return [(name.removesuffix(".sql"), (files / name).read_text("utf-8")) for name in names]


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply every migration not yet applied; return the names applied now."""
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
    )
    applied_now = []
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_ID)
    try:
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        for name, sql in available():
            if name in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
            log.info("applied migration %s", name)
            applied_now.append(name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_ID)
    return applied_now
