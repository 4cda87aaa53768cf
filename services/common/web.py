"""HTTP plumbing every service shares: request ids, problem+json errors, per-route
metrics, health/readiness endpoints, body decoding, and the base `web.Application`.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import msgspec
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from .logs import request_id_var
from .metrics import HTTP_LATENCY, HTTP_REQUESTS, metrics_handler, route_template
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


@web.middleware
async def request_id_middleware(request: web.Request, handler):
    incoming = request.headers.get("X-Request-Id", "")
    request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
    token = request_id_var.set(request_id)
    try:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers["X-Request-Id"] = request_id
            raise
        response.headers["X-Request-Id"] = request_id
        return response
    finally:
        request_id_var.reset(token)


@web.middleware
async def metrics_middleware(request: web.Request, handler):
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = route_template(request)
        service = request.app[SERVICE]
        HTTP_REQUESTS.labels(service, request.method, route, str(status)).inc()
        HTTP_LATENCY.labels(service, request.method, route).observe(time.perf_counter() - started)


_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


@web.middleware
async def problem_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except Problem as problem:
        return response_for(problem)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        detail = None
        if exc.status == 413:
            detail = f"request bodies are limited to {MAX_BODY_BYTES} bytes"
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        return problem_response(exc.status, code, detail, headers=headers)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error in %s %s", request.method, route_template(request))
        return problem_response(500, "internal_error", "an internal error occurred; it has been logged")


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


async def _mark_shutting_down(app: web.Application) -> None:
    app[HEALTH].shutting_down = True


def base_app(service: str) -> web.Application:
    """A service's application with the shared middlewares and operator endpoints."""
    app = web.Application(
        middlewares=[request_id_middleware, metrics_middleware, problem_middleware],
        client_max_size=MAX_BODY_BYTES,
    )
    app[SERVICE] = service
    app[HEALTH] = Health()
    app.on_shutdown.append(_mark_shutting_down)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_handler)
    return app


class JsonAccessLogger(AbstractAccessLogger):
    """One structured line per request; the path is the route template, not raw ids."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        route = "unmatched"
        if isinstance(request, web.Request):
            route = route_template(request)
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
