"""Access tokens are verified locally with the auth service's published keys."""
from __future__ import annotations

import asyncio
import base64
import json
import socket

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.settings import Env
from services.vote.app import create_app, load_settings

from .conftest import Voter, new_key, vote_env
from .tokens import FETCHES, TokenMinter


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def refused_with(voter: Voter, token: str) -> tuple[int, str]:
    voter.token = token
    response = await voter.cast(key=new_key())
    return response.status, (await response.json())["code"]


async def test_a_missing_token_is_401_invalid_token(vote_client, minter, election, pool):
    response = await Voter(vote_client, minter).cast(key=new_key(), headers={"Authorization": ""})
    assert response.status == 401
    assert (await response.json())["code"] == "invalid_token"
    assert await pool.fetchval("SELECT count(*) FROM tally_outbox") == 0


async def test_a_forged_token_signed_with_another_key_under_a_known_kid_is_401(vote_client, minter, election):
    forged = minter.mint(signing_key=Ed25519PrivateKey.generate())
    assert await refused_with(Voter(vote_client, minter), forged) == (401, "invalid_token")


async def test_a_token_living_longer_than_15_minutes_is_401(vote_client, minter, election):
    long_lived = minter.mint(lifetime=3600)
    assert await refused_with(Voter(vote_client, minter), long_lived) == (401, "invalid_token")


async def test_an_expired_token_is_401(vote_client, minter, election):
    expired = minter.mint(iat=1_000_000, exp=1_000_600)
    assert await refused_with(Voter(vote_client, minter), expired) == (401, "invalid_token")


async def test_an_alg_none_token_is_401(vote_client, minter, election):
    claims = minter.claims("v-1", "test-election", "p1")
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': minter.kid})}.{b64(claims)}."
    assert await refused_with(Voter(vote_client, minter), unsigned) == (401, "invalid_token")


async def test_an_hs256_token_keyed_with_the_public_key_is_401(vote_client, minter, election):
    claims = minter.claims("v-1", "test-election", "p1")
    confused = jwt.encode(claims, minter.jwk["x"].encode() * 2, algorithm="HS256", headers={"kid": minter.kid})
    assert await refused_with(Voter(vote_client, minter), confused) == (401, "invalid_token")


@pytest.mark.parametrize("claim", [{"aud": "ballotline-results"}, {"iss": "someone-else"}])
async def test_a_wrong_audience_or_issuer_is_401(vote_client, minter, election, claim):
    assert await refused_with(Voter(vote_client, minter), minter.mint(**claim)) == (401, "invalid_token")


async def test_a_token_naming_an_unknown_precinct_is_401(vote_client, minter, election):
    assert await refused_with(Voter(vote_client, minter), minter.mint(precinct_id="p404")) == (401, "invalid_token")


async def test_a_rotated_auth_key_is_picked_up_on_first_sight_and_refetches_are_rate_limited(make_vote_client, minter, election, jwks_server):
    vote_client = await make_vote_client(VOTE_JWKS_MIN_REFETCH_SECONDS="0.3")
    await asyncio.sleep(0.4)
    old_jwk = minter.jwk
    rotated = TokenMinter()
    minter.jwks = lambda: {"keys": [old_jwk, rotated.jwk]}  # auth published a new key
    fetches = len(jwks_server.app[FETCHES])
    voter = Voter(vote_client, minter)
    voter.token = rotated.mint()
    assert (await voter.cast(key=new_key())).status == 201
    assert len(jwks_server.app[FETCHES]) == fetches + 1
    for _ in range(5):  # unknown kids do not turn into one fetch each
        assert await refused_with(Voter(vote_client, minter, "v-x"), TokenMinter().mint("v-x")) == (401, "invalid_token")
    assert len(jwks_server.app[FETCHES]) <= fetches + 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_the_service_starts_without_auth_and_is_not_ready_until_keys_load(aiohttp_client, aiohttp_server, pool, database_url, redis_url, elections):
    from aiohttp import web

    minter = TokenMinter()
    port = free_port()
    env = vote_env(database_url, redis_url, f"http://127.0.0.1:{port}/.well-known/jwks.json")
    client = await aiohttp_client(create_app(load_settings(Env(env))))
    ready = await client.get("/readyz")
    assert ready.status == 503 and "token_keys" in (await ready.json())["detail"]
    response = await Voter(client, minter).cast(key=new_key())
    assert response.status == 503 and response.headers["Retry-After"]
    app = web.Application()

    async def jwks(request):
        return web.json_response(minter.jwks())

    app.router.add_get("/.well-known/jwks.json", jwks)
    await aiohttp_server(app, port=port)  # auth comes up
    from .conftest import wait_ready

    await wait_ready(client)
    assert (await Voter(client, minter).cast(key=new_key())).status == 201


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t + ".extra",
        lambda t: t.rsplit(".", 1)[0] + ".",
        lambda t: t.replace(".", ".!", 1),
        lambda t: "caf\u00e9." + t,
        lambda t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"),
    ],
    ids=["four-segments", "no-signature", "bad-alphabet", "non-ascii", "tampered-signature"],
)
async def test_a_malformed_or_tampered_token_is_401(vote_client, minter, election, mangle):
    assert await refused_with(Voter(vote_client, minter), mangle(minter.mint())) == (401, "invalid_token")


async def test_a_token_not_valid_yet_is_401_and_an_audience_list_naming_the_vote_service_is_accepted(vote_client, minter, election):
    future = minter.mint(nbf=int(__import__("time").time()) + 600)
    assert await refused_with(Voter(vote_client, minter), future) == (401, "invalid_token")
    voter = Voter(vote_client, minter)
    voter.token = minter.mint(aud=["ballotline-vote", "other"])
    assert (await voter.cast(key=new_key())).status == 201


async def test_a_token_issued_in_the_future_beyond_the_clock_skew_is_401(vote_client, minter, election, pool):
    from services.vote.tokens import MAX_CLOCK_SKEW

    now = int(__import__("time").time())
    from_the_future = minter.mint(iat=now + MAX_CLOCK_SKEW + 60, exp=now + MAX_CLOCK_SKEW + 600)
    assert await refused_with(Voter(vote_client, minter), from_the_future) == (401, "invalid_token")
    assert await pool.fetchval("SELECT count(*) FROM ballots") == 0


async def test_a_token_issued_by_a_clock_slightly_ahead_is_accepted(vote_client, minter, election):
    from services.vote.tokens import MAX_CLOCK_SKEW

    now = int(__import__("time").time())
    voter = Voter(vote_client, minter)
    voter.token = minter.mint(iat=now + MAX_CLOCK_SKEW - 10, exp=now + 600)
    assert (await voter.cast(key=new_key())).status == 201
