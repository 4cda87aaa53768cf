"""Fixtures for the auth service: an app on the real test Postgres and Redis, and an open
election whose roll has every kind of voter the login rules distinguish."""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services.auth.app import create_app, load_settings
from services.common.settings import Env
from tests.factories import create_election, definition

ELECTION = "test-election"
CLOSED = "closed-election"
SECRET = "s" * 40


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@pytest.fixture
def auth_env(database_url, redis_url):
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "BALLOTLINE_ENV": "development",
        "AUTH_SECRET_KEY": SECRET,
    }


@pytest.fixture
async def make_client(aiohttp_client, pool, redis, auth_env):
    """Start an auth app with extra environment variables; storage is emptied first."""

    async def make(**env: str):
        return await aiohttp_client(create_app(load_settings(Env({**auth_env, **env}))))

    return make


@pytest.fixture
async def client(make_client, roll):
    """An app started after the roll exists: its catalog loads the elections at start
    (started before, it would learn of them only through an asynchronous NOTIFY)."""
    return await make_client()


@pytest.fixture
def voter_keys():
    return {name: Ed25519PrivateKey.generate() for name in ("alice", "bob", "paul")}


@pytest.fixture
async def roll(pool, voter_keys):
    """alice (p1, phone + key), bob (p2, phone + key), nora (p1, neither), paul (paper
    precinct p9, phone + key); and a closed election where alice is also on the roll."""
    keys = {name: raw_public(k) for name, k in voter_keys.items()}
    await create_election(
        pool,
        definition(ELECTION),
        [
            ("alice", "p1", "+15550001", keys["alice"]),
            ("bob", "p2", "+15550002", keys["bob"]),
            ("nora", "p1", None, None),
            ("paul", "p9", "+15550009", keys["paul"]),
        ],
    )
    await create_election(pool, definition(CLOSED, open_now=False), [("alice", "p1", "+15550001", keys["alice"])])
    return keys
