"""The bare app: an aiohttp app returning the results service's bytes, ETag and
Cache-Control, with the same 304 rule and nothing else, to compare the service against.
One process a worker (they share the port with SO_REUSEPORT):

    python -m loadtests.bench.results_bare PORT BODY_FILE ETAG CACHE_CONTROL
"""
from __future__ import annotations

import sys
from pathlib import Path


def bare_worker(port: int, body_file: str, etag: str, cache_control: str) -> None:
    from aiohttp import web

    body = Path(body_file).read_bytes()

    async def results(request: web.Request) -> web.Response:
        headers = {"ETag": etag, "Cache-Control": cache_control}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        headers["Content-Type"] = "application/json"
        return web.Response(body=body, headers=headers)

    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    app = web.Application()
    app.router.add_get("/v1/elections/{election_id}/results", results)
    web.run_app(app, host="127.0.0.1", port=port, reuse_port=True, access_log=None, print=None, backlog=4096)


if __name__ == "__main__":
    bare_worker(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4])
