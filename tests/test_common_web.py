"""The HTTP plumbing every service shares: problem+json, request ids, limits, health."""
import asyncio
import logging

import pytest
from aiohttp import web

from services.common.problems import Conflict, TooManyRequests
from services.common.web import JsonAccessLogger, base_app


def make_app():
    app = base_app("test")

    async def conflict(request):
        raise Conflict("already there", code="already_voted")

    async def limited(request):
        raise TooManyRequests("slow down", retry_after=7)

    async def boom(request):
        raise RuntimeError("SELECT secret FROM voters")

    async def echo(request):
        return web.Response(body=await request.read())

    app.router.add_get("/conflict", conflict)
    app.router.add_get("/limited", limited)
    app.router.add_get("/boom", boom)
    app.router.add_post("/echo", echo)
    return app


async def test_a_domain_error_becomes_problem_json_with_a_stable_code(aiohttp_client):
    client = await aiohttp_client(make_app())
    response = await client.get("/conflict")
    assert response.status == 409
    assert response.content_type == "application/problem+json"
    body = await response.json()
    assert body["code"] == "already_voted" and body["status"] == 409 and body["detail"] == "already there"
    assert body["type"].endswith("/already_voted")


async def test_rate_limit_errors_carry_retry_after(aiohttp_client):
    client = await aiohttp_client(make_app())
    response = await client.get("/limited")
    assert response.status == 429
    assert response.headers["Retry-After"] == "7"


async def test_an_unexpected_error_is_a_generic_500_without_internals(aiohttp_client):
    client = await aiohttp_client(make_app())
    response = await client.get("/boom")
    assert response.status == 500
    text = await response.text()
    assert "SELECT" not in text and "Traceback" not in text
    assert (await response.json())["code"] == "internal_error"


async def test_unknown_routes_answer_problem_json_404(aiohttp_client):
    client = await aiohttp_client(make_app())
    response = await client.get("/nowhere")
    assert response.status == 404
    assert (await response.json())["code"] == "not_found"


async def test_bodies_over_16_kib_are_refused_with_413(aiohttp_client):
    client = await aiohttp_client(make_app())
    response = await client.post("/echo", data=b"x" * (16 * 1024 + 1))
    assert response.status == 413
    assert (await response.json())["code"] == "body_too_large"


async def test_every_response_carries_a_request_id_echoed_when_given(aiohttp_client):
    client = await aiohttp_client(make_app())
    given = await client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert given.headers["X-Request-Id"] == "abc-123"
    generated = await client.get("/nowhere")
    assert len(generated.headers["X-Request-Id"]) == 32


async def test_readyz_fails_when_a_dependency_fails_and_while_shutting_down(aiohttp_client):
    from services.common.web import HEALTH

    app = make_app()
    client = await aiohttp_client(app)
    assert (await client.get("/readyz")).status == 200

    async def broken():
        raise ConnectionError("down")

    app[HEALTH].checks["postgres"] = broken
    response = await client.get("/readyz")
    assert response.status == 503 and "Retry-After" in response.headers
    del app[HEALTH].checks["postgres"]
    app[HEALTH].shutting_down = True
    assert (await client.get("/readyz")).status == 503


async def test_metrics_are_labelled_by_route_template_not_raw_path(aiohttp_client, scrape_metrics):
    app = make_app()
    async def ok(request):
        return web.Response(text="ok")

    app.router.add_get("/v1/elections/{election_id}", ok)
    client = await aiohttp_client(app)
    await client.get("/v1/elections/secret-election-name")
    text = await scrape_metrics()
    assert 'route="/v1/elections/{election_id}"' in text
    assert "secret-election-name" not in text


async def test_the_public_port_has_no_metrics_only_a_404_problem(aiohttp_client):
    client = await aiohttp_client(make_app())
    response = await client.get("/metrics")
    assert response.status == 404 and response.content_type == "application/problem+json"
    assert (await response.json())["code"] == "not_found"


async def test_streamed_responses_carry_the_request_id_too(aiohttp_client):
    app = make_app()

    async def stream(request):
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"data: 1\n\n")
        return response

    app.router.add_get("/stream", stream)
    client = await aiohttp_client(app)
    response = await client.get("/stream", headers={"X-Request-Id": "sse-1"})
    assert response.headers["X-Request-Id"] == "sse-1"


def test_access_log_lines_carry_the_route_template_and_a_real_duration(caplog):
    import logging
    import time as clock

    from aiohttp.test_utils import make_mocked_request

    from services.common.web import STARTED, JsonAccessLogger

    request = make_mocked_request("GET", "/conflict", app=make_app())
    request[STARTED] = clock.perf_counter() - 0.0042
    logger = logging.getLogger("test.access")
    with caplog.at_level(logging.INFO, logger="test.access"):
        JsonAccessLogger(logger, "").log(request, web.Response(status=409), 0.0)
    record = caplog.records[-1]
    assert record.status == 409
    assert record.duration_ms >= 4.2


async def test_a_saturated_dependency_is_a_503_with_retry_after_not_a_500(aiohttp_client):
    import redis.exceptions

    app = make_app()

    async def pool_exhausted(request):
        raise redis.exceptions.MaxConnectionsError("Too many connections")

    app.router.add_get("/busy", pool_exhausted)
    client = await aiohttp_client(app)
    response = await client.get("/busy")
    assert response.status == 503
    assert response.headers["Retry-After"] == "1"
    assert (await response.json())["code"] == "dependency_unavailable"


@pytest.mark.parametrize("error", [FileNotFoundError(2, "No such file or directory"), ConnectionResetError(104, "reset")])
async def test_a_restarting_postgres_is_a_503_not_a_500(aiohttp_client, error):
    """Connecting to Postgres' Unix socket while it restarts raises FileNotFoundError."""
    app = make_app()

    async def restarting(request):
        raise error

    app.router.add_get("/restarting", restarting)
    response = await (await aiohttp_client(app)).get("/restarting")
    assert response.status == 503 and (await response.json())["code"] == "dependency_unavailable"


@pytest.mark.parametrize(
    "raw",
    [b"GARBAGE\r\n\r\n", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n"],
    ids=["bad-request-line", "oversized-header"],
)
async def test_a_request_the_parser_refuses_is_access_logged_as_unmatched(aiohttp_server, caplog, raw):
    server = await aiohttp_server(make_app(), access_log_class=JsonAccessLogger)
    with caplog.at_level(logging.INFO, logger="aiohttp.access"):
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(raw)
        await writer.drain()
        assert (await reader.read(64)).split(b" ")[1] == b"400"
        writer.close()
        await asyncio.sleep(0.05)
    lines = [r for r in caplog.records if r.name == "aiohttp.access"]
    assert [(r.route, r.status) for r in lines] == [("<unmatched>", 400)]
    assert not [r for r in caplog.records if r.name == "aiohttp.server" and "Unhandled exception" in r.getMessage()]
