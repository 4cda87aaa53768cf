"""Fixtures for the vote service: a fake auth JWKS server, the app on the test database,
an open election, and a small client wrapper that casts ballots."""
from __future__ import annotations

import asyncio
import uuid

import pytest

from services.common.settings import Env
from services.vote.app import create_app, load_settings
from tests.factories import create_election, definition
from tests.tally_keys import ENV as TALLY_ENV

from .tokens import TokenMinter, jwks_app

SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
SELECTIONS = {"mayor": ["alice"], "council": ["green", "red"]}


@pytest.fixture
def minter() -> TokenMinter:
    return TokenMinter()


@pytest.fixture
async def jwks_server(aiohttp_server, minter):
    return await aiohttp_server(jwks_app(minter))


def vote_env(database_url: str, redis_url: str, jwks_url: str, **extra: str) -> dict[str, str]:
    env = {
        "BALLOTLINE_ENV": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "VOTE_JWKS_URL": jwks_url,
        "VOTE_SECRET_KEY": SECRET,
        "VOTE_CATALOG_POLL_SECONDS": "5",
        **TALLY_ENV,
        "METRICS_PORT": "0",  # `ballotline serve` in the crash test: a random port + 1000 could be taken
    }
    env.update(extra)
    return env


async def wait_ready(client, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while (await client.get("/readyz")).status != 200:
        assert asyncio.get_running_loop().time() < deadline, "the vote service did not become ready"
        await asyncio.sleep(0.02)


@pytest.fixture
def make_vote_client(aiohttp_client, pool, database_url, redis_url, jwks_server, elections):
    """Start the vote app (optionally with extra VOTE_* settings) and wait until ready."""

    async def make(**extra: str):
        settings = load_settings(Env(vote_env(database_url, redis_url, str(jwks_server.make_url("/.well-known/jwks.json")), **extra)))
        client = await aiohttp_client(create_app(settings))
        await wait_ready(client)
        return client

    return make


@pytest.fixture
async def vote_client(make_vote_client):
    return await make_vote_client()


@pytest.fixture
async def elections(pool):
    """Both test elections exist before the service starts (it loads them at start-up)."""
    return {
        "test-election": await create_election(pool, definition()),
        "revote-election": await create_election(pool, definition("revote-election", revoting=True)),
        "later-election": await create_election(pool, definition("later-election", open_now=False)),
    }


@pytest.fixture
def election(elections):
    return elections["test-election"]


@pytest.fixture
def revoting_election(elections):
    return elections["revote-election"]


def new_key() -> str:
    return uuid.uuid4().hex


class Voter:
    """One voter's view: a token and the requests an app would send."""

    def __init__(self, client, minter: TokenMinter, voter: str = "v-1", election_id: str = "test-election", precinct_id: str = "p1"):
        self.client, self.election_id = client, election_id
        self.token = minter.mint(voter, election_id, precinct_id)

    def cast(self, selections=SELECTIONS, key: str | None = None, *, body: bytes | None = None, headers: dict | None = None):
        h = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        if key is not None:
            h["Idempotency-Key"] = key
        h.update(headers or {})
        import msgspec

        data = body if body is not None else msgspec.json.encode({"selections": selections})
        return self.client.post(f"/v1/elections/{self.election_id}/ballots", data=data, headers=h)

    def mine(self):
        return self.client.get(
            f"/v1/elections/{self.election_id}/ballots/mine", headers={"Authorization": f"Bearer {self.token}"}
        )
