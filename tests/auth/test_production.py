"""Production mode: codes go to the SMS gateway (retried), never into the logs, and the
development outbox does not exist. The gateway is a fake HTTP server — the I/O edge."""
from __future__ import annotations

import asyncio
import logging
import re

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .helpers import request_code, verify_code
from .keys import pem


class Gateway:
    """A fake SMS gateway answering with the scripted statuses, then 200."""

    def __init__(self, script: list[int | str]) -> None:
        self.script = list(script)
        self.received: list[tuple[str | None, dict]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((request.headers.get("Authorization"), await request.json()))
        step = self.script.pop(0) if self.script else 200
        if step == "hang":
            await asyncio.sleep(5)
            step = 200
        return web.json_response({"ok": step < 400}, status=step)

    async def wait_for(self, count: int) -> None:
        for _ in range(300):
            if len(self.received) >= count:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"gateway got {len(self.received)} requests, expected {count}")


@pytest.fixture
def production(make_client, aiohttp_server):
    async def start(script: list[int | str]):
        gateway = Gateway(script)
        app = web.Application()
        app.router.add_post("/sms", gateway.handle)
        server = await aiohttp_server(app)
        client = await make_client(
            BALLOTLINE_ENV="production",
            AUTH_SIGNING_KEY=pem(Ed25519PrivateKey.generate()),
            AUTH_SMS_WEBHOOK_URL=str(server.make_url("/sms")),
            AUTH_SMS_WEBHOOK_TOKEN="gateway-token",
            AUTH_SMS_WEBHOOK_TIMEOUT="0.3",
            AUTH_SMS_WEBHOOK_BACKOFF="0.01",
        )
        return client, gateway

    return start


async def test_the_webhook_sender_retries_until_the_gateway_takes_the_code(production, roll, caplog):
    caplog.set_level(logging.DEBUG)
    client, gateway = await production(["hang", 503])
    challenge_id = await request_code(client, "alice")
    await gateway.wait_for(3)
    authorizations = {auth for auth, _ in gateway.received}
    assert authorizations == {"Bearer gateway-token"}
    message = gateway.received[-1][1]
    assert message["to"] == "+15550001" and set(message) == {"to", "message"}
    code = re.search(r"\b(\d{6})\b", message["message"]).group(1)
    response = await verify_code(client, challenge_id, code)
    assert response.status == 200
    token = (await response.json())["access_token"]
    logged = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert code not in logged and token not in logged and "alice" not in logged


async def test_the_webhook_sender_does_not_retry_a_refusal(production, roll, scrape_metrics):
    client, gateway = await production([400])
    await request_code(client, "alice")
    await gateway.wait_for(1)
    await asyncio.sleep(0.2)
    assert len(gateway.received) == 1
    metrics = await scrape_metrics()
    assert 'ballotline_auth_code_delivery_failures_total{sender="webhook"}' in metrics


async def test_the_outbox_endpoint_does_not_exist_in_production(production, roll):
    client, gateway = await production([])
    await request_code(client, "alice")
    await gateway.wait_for(1)
    response = await client.get("/v1/dev/outbox/test-election/alice")
    assert response.status == 404 and (await response.json())["code"] == "not_found"


async def test_decoys_send_nothing_to_the_gateway(production, roll):
    client, gateway = await production([])
    for voter_id in ("nobody", "paul", "nora"):
        await request_code(client, voter_id)
    await asyncio.sleep(0.3)
    assert gateway.received == []
