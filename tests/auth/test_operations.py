"""Health, readiness and metrics endpoints of the auth service."""
from __future__ import annotations

from .helpers import login_with_code


async def test_healthz_and_readyz_answer_200_with_storage_up(client):
    assert (await client.get("/healthz")).status == 200
    response = await client.get("/readyz")
    assert response.status == 200 and "X-Request-Id" in response.headers


async def test_metrics_count_logins_by_method_and_routes_by_template(client, roll, scrape_metrics):
    await login_with_code(client, "alice")
    await client.post("/v1/auth/otp", json={"election_id": "test-election", "voter_id": "alice"})
    await client.post("/v1/auth/otp", json={"election_id": "test-election", "voter_id": "alice"})
    await client.post("/v1/auth/otp", json={"election_id": "test-election", "voter_id": "alice"})
    text = await scrape_metrics()
    for name in ('ballotline_auth_tokens_issued_total{method="otp"}',
                 'ballotline_auth_challenges_requested_total{method="otp"}',
                 'ballotline_auth_codes_sent_total{sender="outbox"}',
                 'ballotline_auth_verifications_total{method="otp",outcome="ok"}',
                 'ballotline_auth_rate_limited_total{limit="challenge_per_voter"}'):
        assert name in text, name
    assert 'route="/v1/dev/outbox/{election_id}/{voter_id}"' in text
    assert "/v1/dev/outbox/test-election/alice" not in text


async def test_shutting_down_stops_cleanly_with_sends_in_flight(make_client, roll):
    client = await make_client()
    await client.post("/v1/auth/otp", json={"election_id": "test-election", "voter_id": "alice"})
    await client.close()  # cleanup contexts: drain sends, stop the key heartbeat, close pools
