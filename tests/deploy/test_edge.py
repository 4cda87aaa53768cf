"""The edge (deploy/nginx) in Debian's nginx, in front of the real auth, vote and results
services on loopback: routing, the results micro-cache, X-Forwarded-For for auth's
trusted-proxy logic, size limits, and /metrics kept inside.

Which service a request reached is read from the services' own request counters
(`ballotline_http_requests_total`, by service and route template)."""
from __future__ import annotations

import asyncio
import time
import uuid

import aiohttp
import pytest

from services.auth.app import create_app as create_auth
from services.auth.app import load_settings as auth_settings
from services.common.metrics import HTTP_REQUESTS
from services.common.settings import Env
from services.results.app import create_app as create_results
from services.results.app import load_settings as results_settings
from services.vote.app import create_app as create_vote
from services.vote.app import load_settings as vote_settings
from tests.deploy import edge
from tests.factories import create_election, definition
from tests.tally_keys import ENV as TALLY_ENV

NGINX = edge.nginx_binary()
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian's nginx; .ci/run installs it)")

ELECTION = "edge"
VOTERS = [(f"voter-{i}", "p1", f"+1555100{i:04d}", None) for i in range(1, 13)]
RESULTS_ROUTE = "/v1/elections/{election_id}/results"


def hits(service: str, route: str | None = None) -> float:
    """Requests `service` has answered so far (at `route`, or at any route)."""
    total = 0.0
    for metric in HTTP_REQUESTS.collect():
        for sample in metric.samples:
            labels = sample.labels
            if sample.name.endswith("_total") and labels["service"] == service:
                if route is None or labels["route"] == route:
                    total += sample.value
    return total


async def wait_ready(session: aiohttp.ClientSession, url: str) -> None:
    for _ in range(200):
        async with session.get(url + "/readyz") as r:
            if r.status == 200:
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{url} never became ready")


@pytest.fixture
async def stack(aiohttp_server, pool, redis, database_url, redis_url, tmp_path):
    await create_election(pool, definition(ELECTION), VOTERS)
    common = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "BALLOTLINE_ENV": "development", **TALLY_ENV}
    auth = await aiohttp_server(create_auth(auth_settings(Env({
        **common,
        "AUTH_SECRET_KEY": "a" * 40,
        "AUTH_TRUSTED_PROXIES": "127.0.0.1/32",  # the edge, and only the edge
        "AUTH_RATE_CHALLENGE_PER_ADDRESS": "3",
    }))))
    vote = await aiohttp_server(create_vote(vote_settings(Env({
        **common,
        "VOTE_SECRET_KEY": "v" * 40,
        "VOTE_JWKS_URL": str(auth.make_url("/.well-known/jwks.json")),
    }))))
    results = await aiohttp_server(create_results(results_settings(Env({**common, "TALLY_INTERVAL_MS": "20"}))))
    port = edge.free_port()
    config = edge.write_config(tmp_path, port, {"auth": auth.port, "vote": vote.port, "results": results.port})
    checked = edge.check_config(NGINX, config)
    assert checked.returncode == 0, checked.stderr
    process = edge.start(NGINX, config, port)
    try:
        async with aiohttp.ClientSession() as session:
            for server in (auth, vote, results):
                await wait_ready(session, str(server.make_url("")).rstrip("/"))
            yield {"edge": f"http://127.0.0.1:{port}", "auth": str(auth.make_url("")).rstrip("/"), "session": session}
    finally:
        edge.stop(process)


async def login_and_vote(stack, voter_id: str) -> dict:
    session, url = stack["session"], stack["edge"]
    async with session.post(url + "/v1/auth/otp", json={"election_id": ELECTION, "voter_id": voter_id}) as r:
        assert r.status == 202, await r.text()
        challenge = (await r.json())["challenge_id"]
    # The development outbox is not routed by the edge: ask auth itself.
    async with session.get(f"{stack['auth']}/v1/dev/outbox/{ELECTION}/{voter_id}") as r:
        code = (await r.json())["code"]
    async with session.post(url + "/v1/auth/otp/verify", json={"challenge_id": challenge, "code": code}) as r:
        assert r.status == 200, await r.text()
        token = (await r.json())["access_token"]
    async with session.post(
        f"{url}/v1/elections/{ELECTION}/ballots",
        json={"selections": {"mayor": ["bob"], "council": ["green", "gold"]}},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
    ) as r:
        assert r.status == 201, await r.text()
        return await r.json()


async def status_of(session: aiohttp.ClientSession, method: str, url: str, **kwargs) -> int:
    async with session.request(method, url, **kwargs) as r:
        await r.read()
        return r.status


ROUTES = [
    ("POST", "/v1/auth/otp", "auth"),
    ("POST", "/v1/auth/signature", "auth"),
    ("GET", "/.well-known/jwks.json", "auth"),
    ("POST", f"/v1/elections/{ELECTION}/ballots", "vote"),
    ("GET", f"/v1/elections/{ELECTION}/ballots/mine", "vote"),
    ("POST", f"/v1/elections/{ELECTION}/protocols", "vote"),
    ("GET", f"/v1/elections/{ELECTION}/protocols", "results"),
    ("GET", "/v1/elections", "results"),
    ("GET", f"/v1/elections/{ELECTION}", "results"),
    ("GET", f"/v1/elections/{ELECTION}/results/precincts/p1", "results"),
    ("GET", f"/v1/elections/{ELECTION}/receipts/r-unknown", "results"),
]
SERVICES = ("auth", "vote", "results")


async def test_each_path_reaches_its_service_and_no_other(stack):
    for method, path, service in ROUTES:
        before = {name: hits(name) for name in SERVICES}
        await status_of(stack["session"], method, stack["edge"] + path, json={})
        reached = {name: hits(name) - before[name] for name in SERVICES}
        assert reached == {name: float(name == service) for name in SERVICES}, (method, path)


async def test_a_voter_logs_in_votes_and_sees_the_ballot_counted_through_the_edge(stack):
    await login_and_vote(stack, "voter-1")
    for _ in range(100):
        async with stack["session"].get(f"{stack['edge']}/v1/elections/{ELECTION}/results") as r:
            if r.status == 200 and (await r.json())["turnout"]["voted"] == 1:
                return
        await asyncio.sleep(0.1)
    raise AssertionError("the ballot never showed in results through the edge")


async def test_a_burst_of_results_gets_reaches_results_about_once_a_second(stack):
    session, url = stack["session"], f"{stack['edge']}/v1/elections/{ELECTION}/results"
    await login_and_vote(stack, "voter-2")  # a published snapshot: public, max-age=1, an ETag
    for _ in range(100):
        async with session.get(url) as r:
            if "ETag" in r.headers:
                break
        await asyncio.sleep(0.1)
    before, answered, started = hits("results", RESULTS_ROUTE), [], time.monotonic()

    async def watcher(n: int) -> None:
        while time.monotonic() - started < 3.0:
            # A third of them try to get past the cache with a query string or a Host.
            bust = {0: {}, 1: {"params": {"x": str(len(answered))}}, 2: {"headers": {"Host": f"h{len(answered)}"}}}
            async with session.get(url, **bust[n % 3]) as r:
                await r.read()
                answered.append(r.status)

    await asyncio.gather(*(watcher(n) for n in range(15)))
    elapsed = time.monotonic() - started
    reached = hits("results", RESULTS_ROUTE) - before
    assert len(answered) >= 200 and set(answered) == {200}
    # One request per expiry (the lock and background update hold the rest on the cached
    # copy), and a second's boundary may fall at either end.
    assert 1 <= reached <= elapsed + 2, (reached, len(answered), elapsed)


async def test_responses_the_service_marks_uncacheable_always_reach_it(stack):
    session, edge_url = stack["session"], stack["edge"]
    receipt = f"{edge_url}/v1/elections/{ELECTION}/receipts/r-unknown"
    results = f"{edge_url}/v1/elections/{ELECTION}/results"
    before_receipts, before_results = hits("results", "/v1/elections/{election_id}/receipts/{receipt_id}"), hits(
        "results", RESULTS_ROUTE
    )
    for _ in range(5):
        assert await status_of(session, "GET", receipt) == 404
        # Credentials bypass the cache.
        await status_of(session, "GET", results, headers={"Authorization": "Bearer x"})
    assert hits("results", "/v1/elections/{election_id}/receipts/{receipt_id}") - before_receipts == 5
    assert hits("results", RESULTS_ROUTE) - before_results == 5


async def test_operator_endpoints_are_not_reachable_through_the_edge(stack):
    for path in ("/metrics", "/metrics/", "//metrics", "/%6Detrics", "/metrics?x=1", "/./metrics", "/readyz"):
        before = sum(hits(name) for name in SERVICES)
        async with stack["session"].get(stack["edge"] + path) as r:
            body = await r.text()
            assert r.status == 404, path
        assert "ballotline_" not in body
        assert sum(hits(name) for name in SERVICES) == before, path


async def test_a_body_over_16_kib_is_refused_by_the_edge_before_any_service(stack):
    before = hits("vote")
    status = await status_of(
        stack["session"], "POST", f"{stack['edge']}/v1/elections/{ELECTION}/ballots", data=b"x" * (17 * 1024)
    )
    assert status == 413
    assert hits("vote") == before


async def test_auth_sees_the_client_address_the_edge_appended_not_a_forged_one(stack):
    """Rate limits per address count the address nginx saw: a client cannot escape its
    limit by writing X-Forwarded-For, and one client's limit is not everyone's."""
    url = stack["edge"] + "/v1/auth/otp"

    async def challenge(source: str, voter: int, forged: str) -> int:
        connector = aiohttp.TCPConnector(local_addr=(source, 0))
        async with aiohttp.ClientSession(connector=connector) as session:
            body = {"election_id": ELECTION, "voter_id": f"voter-{voter}"}
            return await status_of(session, "POST", url, json=body, headers={"X-Forwarded-For": forged})

    statuses = [await challenge("127.0.0.2", voter, f"203.0.113.{voter}") for voter in range(1, 5)]
    assert statuses == [202, 202, 202, 429]  # AUTH_RATE_CHALLENGE_PER_ADDRESS=3
    assert await challenge("127.0.0.3", 5, "203.0.113.1") == 202


async def test_the_web_client_files_are_served_at_the_root(stack):
    async with stack["session"].get(stack["edge"] + "/") as r:
        assert r.status == 200
        assert "Ballotline" in await r.text()
