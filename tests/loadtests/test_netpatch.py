"""The geventhttpclient patches: pooled connections are really reused when the process
holds more than 1,024 file descriptors, and connections come from the configured
loopback source addresses."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from aiohttp import web

CLIENT = Path(__file__).with_name("pool_client.py")
pytest.importorskip("locust")


@pytest.fixture
async def peer_counting_server(aiohttp_server):
    peers: list[tuple[str, int]] = []

    async def handler(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername")[:2])
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", handler)
    server = await aiohttp_server(app, host="127.0.0.1")
    return server, peers


async def _run_client(url: str, patched: bool, requests: int, sessions: int = 1, sources: int = 0) -> dict:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(CLIENT), url, "1" if patched else "0", str(sessions), str(requests), str(sources),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    return json.loads(out)


async def test_unpatched_client_reconnects_for_every_request_past_fd_1024(peer_counting_server):
    server, peers = peer_counting_server
    result = await _run_client(str(server.make_url("")).rstrip("/"), patched=False, requests=20)
    assert result["statuses"] == [200] * 20 and result["max_fd"] >= 1024
    # If this starts failing, geventhttpclient fixed select(): drop the liveness patch.
    assert len(set(peers)) == 20


async def test_patched_client_reuses_one_connection_past_fd_1024(peer_counting_server):
    server, peers = peer_counting_server
    result = await _run_client(str(server.make_url("")).rstrip("/"), patched=True, requests=20)
    assert result["statuses"] == [200] * 20
    assert len(set(peers)) == 1


async def test_patched_client_connects_from_loopback_source_addresses(peer_counting_server):
    server, peers = peer_counting_server
    url = str(server.make_url("")).rstrip("/")
    result = await _run_client(url, patched=True, requests=3, sessions=8, sources=4)
    assert result["statuses"] == [200] * 24
    assert len(set(peers)) == 8  # one kept-alive connection per session
    assert sorted(host for host, _port in set(peers)) == [f"127.0.0.{i}" for i in (1, 1, 2, 2, 3, 3, 4, 4)]

    from loadtests.scenario.netpatch import loopback_sources

    assert loopback_sources(3) == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    with pytest.raises(ValueError):
        loopback_sources(0)
