"""Restarting with a new signing key keeps the old one published until its tokens have
expired, with no operator step."""
from __future__ import annotations

import json

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.auth.handlers import KEYRING
from services.auth.tokens import SigningKey, verify_access_token

from .helpers import jwks, login_with_code
from .keys import pem


def kids(document: dict) -> set[str]:
    return {k["kid"] for k in document["keys"]}


async def test_after_a_restart_with_a_new_key_old_tokens_still_verify_until_the_old_key_expires(
    make_client, roll, pool, tmp_path
):
    key_a, key_b = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    kid_a, kid_b = SigningKey.of(key_a).kid, SigningKey.of(key_b).kid
    path = tmp_path / "a.pem"
    path.write_text(pem(key_a))
    first = await make_client(AUTH_SIGNING_KEY_FILE=str(path))
    token_a = await login_with_code(first, "alice")
    assert jwt.get_unverified_header(token_a)["kid"] == kid_a
    await first.close()

    second = await make_client(AUTH_SIGNING_KEY=pem(key_b))
    published = await jwks(second)
    assert kids(published) == {kid_a, kid_b}
    assert verify_access_token(token_a, published).sub
    token_b = await login_with_code(second, "bob")
    assert jwt.get_unverified_header(token_b)["kid"] == kid_b

    # Key A last signed longer ago than the longest token lifetime plus the margin.
    await pool.execute(
        "UPDATE signing_keys SET last_used_at = now() - interval '16 minutes' - interval '91 seconds' WHERE kid = $1",
        kid_a,
    )
    await second.server.app[KEYRING].refresh()
    assert kids(await jwks(second)) == {kid_b}


async def test_a_key_still_within_its_tokens_lifetime_stays_published(make_client, pool):
    old = SigningKey.generate()
    await pool.execute(
        "INSERT INTO signing_keys (kid, public_jwk, last_used_at)"
        " VALUES ($1, $2::jsonb, now() - interval '14 minutes')",
        old.kid,
        json.dumps(old.public_jwk),
    )
    client = await make_client()
    assert old.kid in kids(await jwks(client))


async def test_the_same_key_keeps_its_kid_across_restarts(make_client, pool):
    key = pem(Ed25519PrivateKey.generate())
    for _ in range(2):
        client = await make_client(AUTH_SIGNING_KEY=key)
        await client.close()
    assert await pool.fetchval("SELECT count(*) FROM signing_keys") == 1


async def test_the_heartbeat_refreshes_last_used_at_while_the_key_signs(make_client, pool):
    client = await make_client()
    ring = client.server.app[KEYRING]
    await pool.execute("UPDATE signing_keys SET last_used_at = now() - interval '10 minutes'")
    await ring.touch()
    age = await pool.fetchval("SELECT now() - last_used_at FROM signing_keys WHERE kid = $1", ring.key.kid)
    assert age.total_seconds() < 5
