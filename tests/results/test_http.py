"""The results service over HTTP: definitions, cached results, ETags, streams, receipts."""
from __future__ import annotations

import asyncio
import time

import pytest

from services.common.catalog import CATALOG
from services.common.settings import Env
from services.results.app import create_app, load_settings
from services.results.handlers import HUB
from services.tally.worker import TallyWorker
from tests.results.ballots import annul, cast
from tests.tally_keys import tally_settings

FAST = {
    "TALLY_INTERVAL_MS": "20",
    "TALLY_PUBLISH_INTERVAL_MS": "50",
    "TALLY_SWEEP_INTERVAL": "0.2",
    "RESULTS_POLL_INTERVAL": "0.2",
    "TALLY_RECOUNT_INTERVAL": "0",
}


@pytest.fixture
def results_app(service_env):
    def make(**env):
        return create_app(load_settings(Env({**service_env, **FAST, **env})))

    return make


@pytest.fixture
async def client(aiohttp_client, results_app, election, redis):
    return await aiohttp_client(results_app())


async def wait_for_version(client, path, above: int, timeout: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = await client.get(path)
        body = await response.json()
        if body["version"] > above:
            return response, body
        await asyncio.sleep(0.02)
    raise AssertionError(f"no version above {above} within {timeout}s")


async def test_elections_are_listed_and_defined_publicly(client, election):
    listed = await (await client.get("/v1/elections")).json()
    assert listed == [
        {
            "election_id": "city-2026",
            "title": "Test election",
            "status": "open",
            "opens_at": listed[0]["opens_at"],
            "closes_at": listed[0]["closes_at"],
        }
    ]
    public = await (await client.get("/v1/elections/city-2026")).json()
    assert public["revoting"] is True and public["auth_methods"] == ["otp", "signature"]
    assert public["contests"][1]["max_choices"] == 2
    assert public["contests"][0]["options"][0] == {"option_id": "alice", "title": "Alice"}
    assert public["precincts"][2] == {
        "precinct_id": "p9", "name": "Village hall", "channel": "paper", "contests": ["mayor", "council"]
    }
    assert public["contests"][0]["precincts"] is None and public["contests"][0]["seats"] is None


async def test_unknown_elections_and_precincts_are_404_problems(client):
    for path in ("/v1/elections/nope", "/v1/elections/nope/results", "/v1/elections/city-2026/results/precincts/p77"):
        response = await client.get(path)
        assert response.status == 404 and response.content_type == "application/problem+json", path
    assert (await (await client.get("/v1/elections/nope/results")).json())["code"] == "election_not_found"


async def test_results_carry_a_strong_etag_and_cdn_friendly_cache_control(client):
    response, body = await wait_for_version(client, "/v1/elections/city-2026/results", 0)
    etag = response.headers["ETag"]
    assert etag == f'"{body["version"]}"' and not etag.startswith("W/")
    assert response.headers["Cache-Control"] == "public, max-age=1, stale-while-revalidate=5, stale-if-error=60"
    assert response.content_type == "application/json"
    for header in (etag, f"W/{etag}", f'"999", {etag}', "*"):
        revalidated = await client.get("/v1/elections/city-2026/results", headers={"If-None-Match": header})
        assert revalidated.status == 304, header
        assert revalidated.headers["ETag"] == etag and "max-age=1" in revalidated.headers["Cache-Control"]
        assert await revalidated.read() == b""
    stale = await client.get("/v1/elections/city-2026/results", headers={"If-None-Match": '"0"'})
    assert stale.status == 200


async def test_cache_control_is_configurable(aiohttp_client, results_app, election, redis):
    client = await aiohttp_client(results_app(RESULTS_CACHE_MAX_AGE="2", RESULTS_CACHE_SWR="10", RESULTS_CACHE_SIE="300"))
    response, _ = await wait_for_version(client, "/v1/elections/city-2026/results", 0)
    assert response.headers["Cache-Control"] == "public, max-age=2, stale-while-revalidate=10, stale-if-error=300"


async def test_a_committed_ballot_shows_in_total_and_precinct_results_within_2_seconds(client, pool, election):
    _, first = await wait_for_version(client, "/v1/elections/city-2026/results", 0)
    started = time.monotonic()
    await cast(pool, "city-2026", "p2", {"mayor": ["bob"], "council": ["blue", "gold"]})
    _, body = await wait_for_version(client, "/v1/elections/city-2026/results", first["version"])
    assert time.monotonic() - started < 2.0
    assert body["turnout"]["voted"] == 1 and body["contests"][0]["options"][1] == {"option_id": "bob", "votes": 1, "percent": 100.0}
    precinct = await (await client.get("/v1/elections/city-2026/results/precincts/p2")).json()
    assert precinct["precinct_id"] == "p2" and precinct["turnout"]["voted"] == 1 and precinct["precincts_reporting"] == 1
    other = await (await client.get("/v1/elections/city-2026/results/precincts/p1")).json()
    assert other["turnout"]["voted"] == 0


async def test_the_stream_sends_the_current_snapshot_then_each_new_one(client, pool):
    _, first = await wait_for_version(client, "/v1/elections/city-2026/results", 0)
    response = await client.get("/v1/elections/city-2026/results/stream")
    assert response.status == 200 and response.content_type == "text/event-stream"

    async def next_event():
        lines = []
        while True:
            line = (await asyncio.wait_for(response.content.readline(), 3)).decode()
            if line == "\n" and any(part.startswith("event:") for part in lines):
                return lines
            if line != "\n":
                lines.append(line.strip())

    initial = await next_event()
    assert "event: results" in initial and f"id: {first['version']}" in initial
    await cast(pool, "city-2026", "p1", {"mayor": ["carol"], "council": []})
    update = await next_event()
    data = next(line for line in update if line.startswith("data: "))
    assert '"voted":1' in data
    assert int(next(line for line in update if line.startswith("id: "))[4:]) > first["version"]


async def test_streams_end_cleanly_when_the_service_shuts_down(client):
    await wait_for_version(client, "/v1/elections/city-2026/results", 0)
    response = await client.get("/v1/elections/city-2026/results/stream")
    await asyncio.wait_for(response.content.readline(), 3)
    client.app[HUB].close()
    await asyncio.wait_for(response.content.read(), 3)  # a reset would raise ClientPayloadError
    assert response.content.at_eof(), "the chunked body was terminated"
    assert client.app[HUB].count() == 0


async def test_receipt_status_goes_counted_superseded_and_annulled(
    aiohttp_client, results_app, pool, tally_pool, redis, election
):
    app = results_app(RESULTS_RUN_TALLY="false")
    client = await aiohttp_client(app)
    worker = TallyWorker(tally_pool, redis, app[CATALOG], tally_settings())

    async def status(receipt_id):
        response = await client.get(f"/v1/elections/city-2026/receipts/{receipt_id}")
        return response.status, (await response.json()).get("status")

    first = await cast(pool, "city-2026", "p1", {"mayor": ["alice"], "council": ["red"]})
    assert (await status(first.receipt_id))[0] == 404  # sealed in the outbox: nobody can name it yet
    await worker.drain()
    assert await status(first.receipt_id) == (200, "counted")
    second = await cast(pool, "city-2026", "p1", {"mayor": ["bob"], "council": []}, supersedes=first)
    assert await status(first.receipt_id) == (200, "counted")  # until the tally takes the re-vote
    await worker.drain()
    assert await status(first.receipt_id) == (200, "superseded")
    assert await status(second.receipt_id) == (200, "counted")
    await annul(pool, "city-2026", second)
    await worker.drain()
    assert await status(second.receipt_id) == (200, "annulled")
    assert (await status("no-such-receipt"))[0] == 404
    response = await client.get(f"/v1/elections/city-2026/receipts/{first.receipt_id}")
    assert response.headers["Cache-Control"] == "no-store"


async def test_before_the_first_publication_a_real_zero_snapshot_is_served(aiohttp_client, results_app, election, redis):
    client = await aiohttp_client(results_app(RESULTS_RUN_TALLY="false"))
    response = await client.get("/v1/elections/city-2026/results")
    body = await response.json()
    assert response.status == 200 and body["version"] == 0 and "ETag" not in response.headers
    assert body["turnout"] == {"eligible": 1200, "voted": 0, "percent": 0.0}
    assert all(o["votes"] == 0 and o["percent"] == 0 for c in body["contests"] for o in c["options"])
    assert body["digest"].startswith("sha256:")


async def test_after_redis_is_flushed_results_come_back_and_never_go_backwards(client, pool, redis):
    await cast(pool, "city-2026", "p1", {"mayor": ["alice"], "council": ["green"]})
    _, body = await wait_for_version(client, "/v1/elections/city-2026/results", 1)
    await redis.flushdb()
    seen = []
    for _ in range(20):
        seen.append((await (await client.get("/v1/elections/city-2026/results")).json())["version"])
        await asyncio.sleep(0.05)
    assert min(seen) >= body["version"]
    deadline = time.monotonic() + 3
    while not await redis.hget("ballotline:results:city-2026", "version"):
        assert time.monotonic() < deadline, "the tally re-published the snapshot to redis"
        await asyncio.sleep(0.05)
    assert int(await redis.hget("ballotline:results:city-2026", "version")) == body["version"]


async def test_metrics_expose_tally_and_results_series(client, scrape_metrics):
    await wait_for_version(client, "/v1/elections/city-2026/results", 0)
    text = await scrape_metrics()
    for name in (
        "ballotline_tally_snapshots_published_total",
        "ballotline_tally_invariant_failures_total",
        "ballotline_tally_batch_size",
        "ballotline_tally_outbox_pending",
        "ballotline_results_stream_subscribers",
    ):
        assert name in text, name


async def test_a_watcher_leaving_mid_stream_is_not_logged_as_an_error(client, caplog, monkeypatch, scrape_metrics):
    from aiohttp import ClientConnectionResetError, web

    await wait_for_version(client, "/v1/elections/city-2026/results", 0)
    real_write = web.StreamResponse.write

    async def write_then_lose_the_watcher(self, data):
        if data.startswith(b"retry:"):
            return await real_write(self, data)
        raise ClientConnectionResetError("Cannot write to closing transport")  # what a vanished phone gives

    monkeypatch.setattr(web.StreamResponse, "write", write_then_lose_the_watcher)
    with caplog.at_level("WARNING"):
        response = await client.get("/v1/elections/city-2026/results/stream")
        await response.read()
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    metrics = await scrape_metrics()
    assert "ballotline_results_stream_subscribers 0.0" in metrics
