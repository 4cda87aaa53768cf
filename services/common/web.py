"""HTTP plumbing every service shares: request ids, problem+json errors, per-route
metrics (read on the internal listener, never here), health/readiness endpoints, body decoding, and the base `web.Application`.
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from time import perf_counter
from typing import TypeVar

import asyncpg
import msgspec
import redis.exceptions
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from .logs import request_id_var
from .metrics import UNMATCHED, observe_request, route_template
from .problems import BadRequest, Problem, problem_response, response_for

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024
_REQUEST_ID = re.compile(r"^[\x21-\x7e]{1,128}$")
T = TypeVar("T")


@dataclass
class Health:
    """Readiness state: dependency checks, and whether the process is shutting down."""

    checks: dict[str, Callable[[], Awaitable[object]]] = field(default_factory=dict)
    shutting_down: bool = False


SERVICE = web.AppKey("service", str)
HEALTH = web.AppKey("health", Health)
REQUEST_ID = web.RequestKey("request_id", str)
STARTED = web.RequestKey("started", float)


DEPENDENCY_ERRORS = (
    redis.exceptions.ConnectionError,  # includes MaxConnectionsError (pool exhausted)
    redis.exceptions.TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.CannotConnectNowError,
    # Reaching a dependency that is restarting: refused, reset, or (Unix socket) no socket
    # file yet — FileNotFoundError from asyncpg's connect, seen in `make chaos`. Handlers
    # do no other I/O, so an OSError here is always a dependency's.
    OSError,
)

_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


def _problem_for(exc: web.HTTPException) -> web.Response:
    """aiohttp's own errors (no route, wrong method, body too large) as problem+json."""
    code = _HTTP_CODES.get(exc.status, "http_error")
    detail = f"request bodies are limited to {MAX_BODY_BYTES} bytes" if exc.status == 413 else None
    headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
    return problem_response(exc.status, code, detail, headers=headers)


@web.middleware
async def edge_middleware(request: web.Request, handler):
    """Every request, in one layer (this runs tens of thousands of times a second):
    a request id (echoed or generated) in the logging context and on the response;
    errors turned into problem+json; the route-templated latency and status metrics."""
    started = perf_counter()
    incoming = request.headers.get("X-Request-Id")
    request_id = incoming if incoming and _REQUEST_ID.match(incoming) else os.urandom(16).hex()
    request[REQUEST_ID] = request_id
    request[STARTED] = started
    token = request_id_var.set(request_id)
    try:
        try:
            response = await handler(request)
        except Problem as problem:
            response = response_for(problem)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = _problem_for(exc)
        except asyncio.CancelledError:
            raise
        except DEPENDENCY_ERRORS as exc:
            # Postgres or Redis saturated or unreachable: the client did nothing wrong and
            # may retry (a ballot retry with the same key is always safe).
            log.warning("dependency unavailable in %s %s: %r", request.method, route_template(request), exc)
            response = problem_response(503, "dependency_unavailable", "a backing service is unavailable; retry shortly", retry_after=1)
        except Exception:
            log.exception("unhandled error in %s %s", request.method, route_template(request))
            response = problem_response(500, "internal_error", "an internal error occurred; it has been logged")
        observe_request(request.app[SERVICE], request.method, route_template(request), response.status, started)
        if request.app[HEALTH].shutting_down:
            response.force_close()  # draining: answer, then close the kept-alive connection
        return response
    finally:
        request_id_var.reset(token)


async def decode_body(request: web.Request, decoder: msgspec.json.Decoder) -> T:
    """Read and decode a JSON body; any decoding or typing error is a 400 malformed_body."""
    raw = await request.read()
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise BadRequest(str(exc), code="malformed_body") from None
    except msgspec.DecodeError:
        raise BadRequest("the body is not valid JSON", code="malformed_body") from None


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    health = request.app[HEALTH]
    if health.shutting_down:
        return problem_response(503, "not_ready", "shutting down", retry_after=1)
    failing = []
    for name, check in health.checks.items():
        try:
            await asyncio.wait_for(check(), timeout=2.0)
        except Exception:  # noqa: BLE001 - any failure means not ready
            failing.append(name)
    if failing:
        return problem_response(503, "not_ready", "unavailable: " + ", ".join(failing), retry_after=1)
    return web.json_response({"status": "ready"})


async def _add_request_id(request: web.Request, response: web.StreamResponse) -> None:
    # At prepare time, so streamed responses (SSE) carry it too.
    request_id = request.get(REQUEST_ID)
    if request_id:
        response.headers["X-Request-Id"] = request_id


async def _mark_shutting_down(app: web.Application) -> None:
    app[HEALTH].shutting_down = True


def base_app(service: str) -> web.Application:
    """A service's application with the shared middlewares and operator endpoints."""
    app = web.Application(
        middlewares=[edge_middleware],
        client_max_size=MAX_BODY_BYTES,
    )
    app[SERVICE] = service
    app[HEALTH] = Health()
    app.on_shutdown.append(_mark_shutting_down)
    app.on_response_prepare.append(_add_request_id)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    # No /metrics here: it is served on the internal listener (metrics_listener.py).
    return app


class JsonAccessLogger(AbstractAccessLogger):
    """One structured line per request; the path is the route template, not raw ids."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        route = UNMATCHED
        started = request.get(STARTED)
        # Set by edge_middleware, so the request was parsed and routed. A request the HTTP
        # parser refused (bad request line, oversized headers) reaches here without a
        # route: it is logged as <unmatched> rather than raising on its missing match_info.
        if started is not None:
            route = route_template(request)  # type: ignore[arg-type]
            time = perf_counter() - started  # the loop's clock can be too coarse (uvloop: 1 ms)
        self.logger.info(
            "%s %s %s",
            request.method,
            route,
            response.status,
            extra={
                "http_method": request.method,
                "route": route,
                "status": response.status,
                "duration_ms": round(time * 1000, 2),
                "request_id": response.headers.get("X-Request-Id"),
            },
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)
