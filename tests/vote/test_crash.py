"""Crash test: the real service, killed with SIGKILL mid-stream, loses no acknowledged
ballot and counts no voter twice once clients retry with their keys."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path

import aiohttp
import msgspec
import pytest

from tests.tally_keys import tally_now

from .conftest import SECRET, SELECTIONS, vote_env
from .test_tokens import free_port

ROOT = Path(__file__).resolve().parents[2]
VOTERS, CLIENTS = 400, 32


def start_service(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(ROOT / ".venv/bin/ballotline"), "serve", "vote"],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


async def wait_ready(session: aiohttp.ClientSession, base: str, process: subprocess.Popen) -> None:
    for _ in range(300):
        assert process.poll() is None, "the vote service exited"
        try:
            async with session.get(base + "/readyz") as r:
                if r.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("the vote service did not become ready")


async def cast(session, base, token, key) -> tuple[int, bytes] | None:
    try:
        async with session.post(
            base + "/v1/elections/test-election/ballots",
            data=msgspec.json.encode({"selections": SELECTIONS}),
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key, "Content-Type": "application/json"},
        ) as r:
            return r.status, await r.read()
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return None  # no answer: unacknowledged


@pytest.mark.slow
async def test_a_killed_service_loses_no_acknowledged_ballot_and_retries_make_one_ballot_per_voter(
    database_url, redis_url, jwks_server, minter, pool, elections, tmp_path
):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = vote_env(database_url, redis_url, str(jwks_server.make_url("/.well-known/jwks.json")), PORT=str(port), VOTE_SECRET_KEY=SECRET)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    env["VOTE_SIGNING_KEY"] = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    voters = [(f"crash-{n}", minter.mint(f"crash-{n}"), f"key-{n}") for n in range(VOTERS)]
    acked: dict[str, bytes] = {}
    log = tmp_path / "vote.log"
    process = start_service(env, log)
    timeout = aiohttp.ClientTimeout(total=10)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await wait_ready(session, base, process)
            queue: asyncio.Queue = asyncio.Queue()
            for v in voters:
                queue.put_nowait(v)

            async def client() -> None:
                while not queue.empty():
                    voter, token, key = queue.get_nowait()
                    answer = await cast(session, base, token, key)
                    if answer and answer[0] == 201:
                        acked[voter] = answer[1]
                    if len(acked) >= VOTERS // 4 and process.poll() is None:
                        os.kill(process.pid, signal.SIGKILL)  # mid-stream, by the PID we started

            await asyncio.gather(*(client() for _ in range(CLIENTS)))
            process.wait(10)
            assert process.returncode == -signal.SIGKILL
            assert 0 < len(acked) < VOTERS, "the kill must land mid-stream"

            process = start_service(env, log)
            await wait_ready(session, base, process)
            for voter, token, key in voters:  # every client retries with its key
                for _ in range(50):
                    answer = await cast(session, base, token, key)
                    if answer and answer[0] != 503:
                        break
                    await asyncio.sleep(0.1)
                assert answer and answer[0] == 201, (voter, answer)
                if voter in acked:
                    assert answer[1] == acked[voter]  # the acknowledged receipt, replayed
                acked[voter] = answer[1]
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # graceful: flush, answer, exit
            try:
                assert process.wait(15) == 0
            finally:
                if process.poll() is None:
                    process.kill()
    receipts = {msgspec.json.decode(body)["receipt"]["receipt_id"] for body in acked.values()}
    assert await tally_now(pool) == VOTERS  # one outbox message per acknowledged ballot
    stored = {r["receipt_id"] for r in await pool.fetch("SELECT receipt_id FROM ballots")}
    assert receipts == stored and len(stored) == VOTERS
    per_voter = await pool.fetch("SELECT voter, ballots_cast FROM participation")
    assert len(per_voter) == VOTERS and all(r["ballots_cast"] == 1 for r in per_voter)
    assert await pool.fetchval("SELECT sum(voted) FROM tally_precincts") == VOTERS
