"""HTTP handlers of the results service: thin, answering from memory.

Results carry a strong ETag (the quoted version: one version, one byte string) and a
Cache-Control a CDN can act on; If-None-Match gets 304 with the same headers.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from aiohttp import web

from services.common.catalog import CATALOG
from services.common.election import Election
from services.common.problems import NotFound, Unavailable
from services.common.storage import PG
from services.common.web import HEALTH

from . import public
from .audit import get_audit
from .cache import Entry, SnapshotCache
from .receipts import receipt_status
from .settings import ResultsSettings
from .stream import StreamHub

SETTINGS = web.AppKey("results_settings", ResultsSettings)
CACHE = web.AppKey("results_cache", SnapshotCache)
HUB = web.AppKey("results_stream_hub", StreamHub)
RECEIPT_SLOTS = web.AppKey("results_receipt_slots", asyncio.Semaphore)
JSON = "application/json"


def _election(request: web.Request) -> Election:
    election = request.app[CATALOG].get(request.match_info["election_id"])
    if election is None:
        raise NotFound("no such election", code="election_not_found")
    return election


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def list_elections(request: web.Request) -> web.Response:
    body = public.election_list(request.app[CATALOG].all(), _now())
    return web.Response(body=body, headers={"Content-Type": JSON, "Cache-Control": "public, max-age=5"})


async def get_election(request: web.Request) -> web.Response:
    body = public.public_election(_election(request), _now())
    return web.Response(body=body, headers={"Content-Type": JSON, "Cache-Control": "public, max-age=5"})


def _matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


def _snapshot_response(request: web.Request, entry: Entry) -> web.Response:
    if entry.etag is None:  # the zero snapshot before the first publication
        return web.Response(body=entry.body, headers={"Content-Type": JSON, "Cache-Control": "no-cache"})
    headers = {"ETag": entry.etag, "Cache-Control": request.app[SETTINGS].cache_control}
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None and _matches(if_none_match, entry.etag):
        return web.Response(status=304, headers=headers)
    headers["Content-Type"] = JSON
    return web.Response(body=entry.body, headers=headers)


async def _results(request: web.Request):
    election = _election(request)
    results = request.app[CACHE].get(election.election_id) or await request.app[CACHE].ensure(election.election_id)
    if results is None:
        raise Unavailable("results are being loaded", code="results_not_ready", retry_after=1)
    return results


async def get_results(request: web.Request) -> web.Response:
    return _snapshot_response(request, (await _results(request)).total)


async def get_precinct_results(request: web.Request) -> web.Response:
    results = await _results(request)
    entry = results.precincts.get(request.match_info["precinct_id"])
    if entry is None:
        raise NotFound("no such precinct in this election", code="precinct_not_found")
    return _snapshot_response(request, entry)


async def stream_results(request: web.Request) -> web.StreamResponse:
    election_id = _election(request).election_id
    hub = request.app[HUB]
    if hub.closed or request.app[HEALTH].shutting_down:
        raise Unavailable("shutting down", code="shutting_down", retry_after=1)
    subscriber = hub.subscribe(election_id)  # before reading the cache: no version slips between
    try:
        results = await _results(request)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        subscriber.pending = results.total
        if request.headers.get("Last-Event-ID") == str(results.version):
            subscriber.sent_version = results.version
        await response.write(b"retry: 2000\n\n")
        while not hub.closed:
            data = subscriber.take()
            if data:
                await response.write(data)
            else:
                await subscriber.wake.wait()
        return response
    except ConnectionResetError:  # the watcher went away: the normal end of a stream
        return response
    finally:
        hub.unsubscribe(election_id, subscriber)


async def get_receipt(request: web.Request) -> web.Response:
    election = _election(request)
    receipt_id = request.match_info["receipt_id"]
    slots = request.app[RECEIPT_SLOTS]
    if slots.locked():
        raise Unavailable("too many receipt lookups at once", code="overloaded", retry_after=1)
    status = None
    if len(receipt_id) <= 128:
        async with slots:
            status = await receipt_status(request.app[PG], election.election_id, receipt_id)
    if status is None:
        raise NotFound(
            "no such receipt in this election; a ballot cast in the last few seconds may not be counted yet: retry shortly",
            code="receipt_not_found",
        )
    body = public._encoder.encode({"receipt_id": receipt_id, "status": status})
    return web.Response(body=body, headers={"Content-Type": JSON, "Cache-Control": "no-store"})


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/v1/elections", list_elections)
    r.add_get("/v1/elections/{election_id}", get_election)
    r.add_get("/v1/elections/{election_id}/results", get_results)
    r.add_get("/v1/elections/{election_id}/results/precincts/{precinct_id}", get_precinct_results)
    r.add_get("/v1/elections/{election_id}/results/stream", stream_results)
    r.add_get("/v1/elections/{election_id}/receipts/{receipt_id}", get_receipt)
    r.add_get("/v1/elections/{election_id}/audit", get_audit)
