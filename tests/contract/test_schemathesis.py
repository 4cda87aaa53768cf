"""Schemathesis against every service's own /openapi.json, all checks: generated valid and
invalid requests (bodies, parameters, headers, methods) must get a documented status, a
documented content type and a body matching the document — and never a 5xx."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


async def _fuzz(client, seconds: int = 12) -> tuple[int, str]:
    url = str(client.server.make_url("/openapi.json"))
    process = await asyncio.create_subprocess_exec(  # the test's loop keeps serving meanwhile
        str(SCHEMATHESIS), "run", url, "--checks", "all", "--max-time", str(seconds), "--workers", "1",
        "--suppress-health-check", "all", "--seed", "20261202", "--no-color",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=seconds + 90)
    return process.returncode, output.decode(errors="replace")


def _assert_clean(code: int, output: str) -> None:
    assert code == 0, output[-6000:]
    assert " passed" in output, output[-3000:]


async def test_schemathesis_finds_nothing_in_auth(auth):
    _assert_clean(*await _fuzz(auth[0]))


async def test_schemathesis_finds_nothing_in_vote(vote):
    _assert_clean(*await _fuzz(vote[0]))


async def test_schemathesis_finds_nothing_in_results(results):
    _assert_clean(*await _fuzz(results[0]))
