"""The access token's claims and the verification helper's refusals."""
from __future__ import annotations

import base64
import time

import jwt
import pytest

from services.auth.tokens import (
    SigningKey,
    TokenIssuer,
    parse_jwks,
    verify_access_token,
)
from tests.factories import voter_handle

from .helpers import jwks, login_with_code


async def test_a_token_carries_the_claim_contract(client, roll, pool):
    token = await login_with_code(client, "alice")
    claims = await verify_access_token_via(client, token)
    assert claims.sub == await voter_handle(pool, "test-election", "alice")
    assert claims.sub != "alice" and "alice" not in token
    assert claims.iss == "ballotline-auth" and claims.aud == "ballotline-vote"
    assert claims.eid == "test-election" and claims.pct == "p1" and claims.amr == ["otp"]
    assert claims.exp - claims.iat == 600 <= 900 and abs(claims.iat - time.time()) < 5
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA"
    assert header["kid"] in {k["kid"] for k in (await jwks(client))["keys"]}


async def verify_access_token_via(client, token):
    return verify_access_token(token, await jwks(client))


async def test_every_token_has_its_own_jti(client, roll):
    first = await verify_access_token_via(client, await login_with_code(client, "alice"))
    second = await verify_access_token_via(client, await login_with_code(client, "bob"))
    assert first.jti != second.jti


async def test_issuer_and_lifetime_are_configurable(make_client, roll):
    client = await make_client(AUTH_ISSUER="https://auth.example", AUTH_TOKEN_TTL="120")
    token = await login_with_code(client, "alice")
    claims = verify_access_token(token, await jwks(client), issuer="https://auth.example")
    assert claims.iss == "https://auth.example" and claims.exp - claims.iat == 120


async def test_the_jwks_publishes_okp_ed25519_keys_with_thumbprint_kids(client):
    keys = (await jwks(client))["keys"]
    assert keys and all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and k["alg"] == "EdDSA" for k in keys)
    assert all("d" not in k for k in keys)


@pytest.fixture
def signed():
    key = SigningKey.generate()
    return key, {"keys": [key.public_jwk]}


def test_the_kid_is_the_rfc7638_thumbprint():
    # RFC 8037 appendix A.3: the thumbprint of its example Ed25519 key.
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    from services.common.signing_keys import thumbprint

    assert thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_the_helper_accepts_a_token_of_the_issuer(signed):
    key, keys = signed
    token = TokenIssuer(key, issuer="i", ttl=60).issue(handle="h", election_id="e", precinct_id="p", method="signature")
    assert verify_access_token(token, keys).amr == ["sig"]


def test_the_helper_rejects_alg_none(signed):
    key, keys = signed
    claims = {"iss": "i", "aud": "ballotline-vote", "sub": "h", "eid": "e", "pct": "p", "amr": ["otp"],
              "iat": int(time.time()), "exp": int(time.time()) + 60, "jti": "j"}
    token = jwt.encode(claims, None, algorithm="none", headers={"kid": key.kid})
    with pytest.raises(jwt.InvalidTokenError):
        verify_access_token(token, keys)
    unsigned = token.rsplit(".", 1)[0] + "."
    with pytest.raises(jwt.InvalidTokenError):
        verify_access_token(unsigned, keys)


def test_the_helper_rejects_hs256_even_keyed_with_the_public_key(signed):
    key, keys = signed
    claims = {"iss": "i", "aud": "ballotline-vote", "sub": "h", "eid": "e", "pct": "p", "amr": ["otp"],
              "iat": int(time.time()), "exp": int(time.time()) + 60, "jti": "j"}
    secret = base64.urlsafe_b64decode(key.public_jwk["x"] + "=")
    token = jwt.encode(claims, secret, algorithm="HS256", headers={"kid": key.kid})
    with pytest.raises(jwt.InvalidTokenError):
        verify_access_token(token, keys)


def test_the_helper_rejects_wrong_audience_expiry_future_issue_unknown_kid_and_long_lifetimes(signed):
    key, keys = signed
    now = int(time.time())
    base = {"iss": "i", "aud": "ballotline-vote", "sub": "h", "eid": "e", "pct": "p", "amr": ["otp"],
            "iat": now, "exp": now + 60, "jti": "j"}

    def token(kid=key.kid, **changes):
        return jwt.encode({**base, **changes}, key.private, algorithm="EdDSA", headers={"kid": kid})

    assert verify_access_token(token(), keys).sub == "h"
    for bad in (token(aud="ballotline-results"), token(iat=now - 120, exp=now - 60), token(kid="other"),
                token(iat=now + 120, exp=now + 600), token(exp=now + 3600), token(amr=["password"])):
        with pytest.raises(jwt.InvalidTokenError):
            verify_access_token(bad, keys)
    missing = jwt.encode({k: v for k, v in base.items() if k != "pct"}, key.private, algorithm="EdDSA",
                         headers={"kid": key.kid})
    with pytest.raises(jwt.InvalidTokenError):
        verify_access_token(missing, keys)


def test_another_key_with_the_same_kid_does_not_verify(signed):
    key, keys = signed
    impostor = SigningKey.generate()
    token = jwt.encode({"aud": "ballotline-vote"}, impostor.private, algorithm="EdDSA", headers={"kid": key.kid})
    with pytest.raises(jwt.InvalidTokenError):
        verify_access_token(token, parse_jwks(keys))
