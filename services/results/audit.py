"""`GET /v1/elections/{election_id}/audit`: the election's public audit log, read from
Postgres on each request (as the read-only results role; entries are rare and an
observer wants the newest), with its head. API.md "Operators and the public audit log"."""
from __future__ import annotations

from aiohttp import web

from services.common import audit_chain, audit_log
from services.common.catalog import CATALOG
from services.common.problems import NotFound
from services.common.storage import PG


async def get_audit(request: web.Request) -> web.Response:
    election = request.app[CATALOG].get(request.match_info["election_id"])
    if election is None:
        raise NotFound("no such election", code="election_not_found")
    entries = await audit_log.read(request.app[PG], election.election_id)
    body = audit_chain.canonical(
        {"election_id": election.election_id, "head": audit_chain.head(entries), "entries": entries}
    )
    return web.Response(body=body, headers={"Content-Type": "application/json", "Cache-Control": "no-cache"})
