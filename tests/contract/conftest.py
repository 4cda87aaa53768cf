"""The three real services on the test Postgres and Redis, each with the contract of the
document it serves at /openapi.json. The vote service trusts a fake auth JWKS (the token
minter of tests/vote), so every token case is cheap to produce."""
from __future__ import annotations

import asyncio

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services.auth import app as auth_service
from services.common.settings import Env
from services.results import app as results_service
from services.vote import app as vote_service
from tests.factories import create_election, definition
from tests.tally_keys import ENV as TALLY_ENV
from tests.vote.tokens import TokenMinter, jwks_app

from .contract import Contract

OPEN, LATER = "contract", "contract-later"
SELECTIONS = {"mayor": ["alice"], "council": ["green", "red"]}


@pytest.fixture
def voter_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
async def elections(pool, redis, voter_key):
    """Created before the services start: they load the catalog at start-up."""
    public = voter_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    await create_election(pool, definition(OPEN), [("alice", "p1", "+15550001", public), ("bob", "p2", "+15550002", None)])
    await create_election(pool, definition(LATER, open_now=False), [("alice", "p1", "+15550001", public)])


@pytest.fixture
def common_env(database_url, redis_url) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "BALLOTLINE_ENV": "development", **TALLY_ENV}


def service_app(service, env: dict[str, str]):
    return service.create_app(service.load_settings(Env(env)))


async def started(client) -> tuple[object, Contract]:
    for _ in range(200):
        if (await client.get("/readyz")).status == 200:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the service never became ready")
    response = await client.get("/openapi.json")
    contract = Contract(await response.json())
    await contract.check(response)
    return client, contract


@pytest.fixture
async def auth(aiohttp_client, elections, common_env):
    return await started(await aiohttp_client(service_app(auth_service, {**common_env, "AUTH_SECRET_KEY": "a" * 40})))


@pytest.fixture
def minter() -> TokenMinter:
    return TokenMinter()


@pytest.fixture
async def vote(aiohttp_client, aiohttp_server, elections, common_env, minter):
    jwks = await aiohttp_server(jwks_app(minter))
    env = {**common_env, "VOTE_SECRET_KEY": "v" * 40, "VOTE_JWKS_URL": str(jwks.make_url("/.well-known/jwks.json"))}
    return await started(await aiohttp_client(service_app(vote_service, env)))


@pytest.fixture
async def results(aiohttp_client, elections, common_env):
    env = {**common_env, "TALLY_INTERVAL_MS": "20"}
    return await started(await aiohttp_client(service_app(results_service, env)))
