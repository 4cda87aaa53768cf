"""HTTP in and out, nothing else: read the request, call one use case, encode."""
from __future__ import annotations

from aiohttp import web

from services.common.client_address import client_address
from services.common.problems import Problem

from . import metrics
from .casting import VoteService
from .receipts import ReceiptSigner
from .schemas import encoder

VOTE = web.AppKey("vote_service", VoteService)
SIGNER = web.AppKey("receipt_signer", ReceiptSigner)
PROXIES = web.AppKey("trusted_proxies", tuple)


async def cast_ballot(request: web.Request) -> web.Response:
    service = request.app[VOTE]
    body = await request.read()  # over 16 KiB: 413 from the shared middleware
    try:
        answer = await service.cast(
            request.match_info["election_id"],
            request.headers.get("Authorization"),
            request.headers.get("Idempotency-Key"),
            request.path,
            body,
            client_address(request.remote, request.headers.getall("X-Forwarded-For", []), request.app[PROXIES]),
        )
    except Problem as problem:
        metrics.refused(problem.code)
        raise
    headers = {}
    if answer.location:
        headers["Location"] = answer.location
    if answer.replayed:
        headers["Idempotent-Replayed"] = "true"
    return web.Response(status=answer.status, body=answer.body, content_type="application/json", headers=headers)


async def my_ballots(request: web.Request) -> web.Response:
    mine = await request.app[VOTE].mine(request.match_info["election_id"], request.headers.get("Authorization"))
    return web.Response(
        body=encoder.encode(mine), content_type="application/json", headers={"Cache-Control": "no-store"}
    )


async def jwks(request: web.Request) -> web.Response:
    return web.Response(
        body=encoder.encode(request.app[SIGNER].jwks()),
        content_type="application/json",
        headers={"Cache-Control": "public, max-age=300"},
    )


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/v1/elections/{election_id}/ballots", cast_ballot)
    app.router.add_get("/v1/elections/{election_id}/ballots/mine", my_ballots)
    app.router.add_get("/.well-known/jwks.json", jwks)
