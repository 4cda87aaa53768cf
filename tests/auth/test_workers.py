"""Several worker processes of the auth service share nothing but Postgres and Redis: a
code requested from one verifies on another, even in development without configured
secrets."""
from __future__ import annotations

import asyncio
import logging

from .helpers import claims_of, request_code, sent_code, verify_code


async def test_a_code_requested_on_one_worker_verifies_on_another_without_configured_secrets(make_client, roll):
    unset = {"AUTH_SECRET_KEY": ""}
    first, second = await make_client(**unset), await make_client(**unset)
    challenge_id = await request_code(first, "alice")
    code = await sent_code(second, "alice")
    response = await verify_code(second, challenge_id, code)
    assert response.status == 200
    token = (await response.json())["access_token"]
    assert (await claims_of(first, token)).eid == "test-election"


async def test_the_console_sender_logs_the_code_in_development(make_client, roll, caplog):
    caplog.set_level(logging.INFO)
    client = await make_client(AUTH_SMS_SENDER="console")
    challenge_id = await request_code(client, "alice")
    for _ in range(50):
        codes = [r.args[1] for r in caplog.records if r.getMessage().startswith("development login code")]
        if codes:
            break
        await asyncio.sleep(0.02)
    assert (await verify_code(client, challenge_id, codes[0])).status == 200
    assert (await client.get("/v1/dev/outbox/test-election/alice")).status == 404
