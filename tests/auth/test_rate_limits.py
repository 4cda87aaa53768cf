"""Per-voter and per-address limits answer 429 rate_limited with Retry-After, for real
and unknown voters alike; X-Forwarded-For counts only from a trusted proxy."""
from __future__ import annotations

from .helpers import verify_code


async def otp(client, voter_id: str, election_id: str = "test-election", **kw):
    return await client.post("/v1/auth/otp", json={"election_id": election_id, "voter_id": voter_id}, **kw)


async def test_a_voter_gets_three_challenges_per_ten_minutes(client, roll):
    statuses = [(await otp(client, "alice")).status for _ in range(3)]
    assert statuses == [202, 202, 202]
    refused = await otp(client, "alice")
    assert refused.status == 429 and (await refused.json())["code"] == "rate_limited"
    assert 590 <= int(refused.headers["Retry-After"]) <= 600
    assert (await otp(client, "bob")).status == 202  # other voters are not affected


async def test_the_per_voter_limit_applies_identically_to_unknown_voters(client, roll):
    real = [(await otp(client, "alice")).status for _ in range(4)]
    unknown = [(await otp(client, "nobody")).status for _ in range(4)]
    closed = [(await otp(client, "alice", "closed-election")).status for _ in range(4)]
    assert real == unknown == closed == [202, 202, 202, 429]


async def test_the_per_voter_limit_is_configurable(make_client, roll):
    client = await make_client(AUTH_RATE_CHALLENGE_PER_VOTER="1", AUTH_RATE_CHALLENGE_PER_VOTER_WINDOW="30")
    assert (await otp(client, "alice")).status == 202
    refused = await otp(client, "alice")
    assert refused.status == 429 and 1 <= int(refused.headers["Retry-After"]) <= 30


async def test_one_address_gets_a_limited_number_of_challenges(make_client, roll):
    client = await make_client(AUTH_RATE_CHALLENGE_PER_ADDRESS="3")
    statuses = [(await otp(client, f"voter-{i}")).status for i in range(4)]
    assert statuses == [202, 202, 202, 429]
    refused = await otp(client, "alice")
    assert refused.status == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60


async def test_one_address_gets_a_limited_number_of_verifications(make_client, roll):
    client = await make_client(AUTH_RATE_VERIFY_PER_ADDRESS="2")
    statuses = [(await verify_code(client, f"challenge-{i}", "123456")).status for i in range(3)]
    assert statuses == [401, 401, 429]
    refused = await verify_code(client, "challenge-x", "123456")
    assert (await refused.json())["code"] == "rate_limited" and "Retry-After" in refused.headers


async def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(make_client, roll):
    client = await make_client(AUTH_RATE_CHALLENGE_PER_ADDRESS="2")
    statuses = [
        (await otp(client, f"voter-{i}", headers={"X-Forwarded-For": f"203.0.113.{i}"})).status for i in range(3)
    ]
    assert statuses == [202, 202, 429]


async def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(make_client, roll):
    client = await make_client(AUTH_RATE_CHALLENGE_PER_ADDRESS="2", AUTH_TRUSTED_PROXIES="127.0.0.1, 10.0.0.0/8")
    first = [(await otp(client, f"a-{i}", headers={"X-Forwarded-For": "203.0.113.7, 10.1.2.3"})).status
             for i in range(3)]
    assert first == [202, 202, 429]
    # A different client behind the same proxies has its own budget; a forged left-most
    # entry does not help the limited one.
    assert (await otp(client, "b-0", headers={"X-Forwarded-For": "198.51.100.9"})).status == 202
    forged = await otp(client, "a-9", headers={"X-Forwarded-For": "1.1.1.1, 203.0.113.7, 10.1.2.3"})
    assert forged.status == 429
