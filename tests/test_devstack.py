"""`make run` (`ballotline up`) on a fresh data folder: embedded Postgres and Redis, the
demo election, all three services; the README's walk-through logs a voter in and votes;
Ctrl-C stops everything; a second run reuses what the first created."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import aiohttp
import psutil
import pytest

pytestmark = pytest.mark.slow


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _start(data_dir, ports) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        BALLOTLINE_DATA_DIR=str(data_dir),
        BALLOTLINE_DEMO_VOTERS="2000",
        AUTH_PORT=str(ports[0]),
        VOTE_PORT=str(ports[1]),
        RESULTS_PORT=str(ports[2]),
        PYTHONUNBUFFERED="1",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_line(process: subprocess.Popen, needle: str, timeout: float = 180) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        lines.append(line)
        if needle in line:
            return lines
    process.kill()
    raise AssertionError(f"{needle!r} never printed; output:\n{''.join(lines)}")


def _stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=60)
    return out


async def _vote_like_the_readme(ports: list[int]) -> dict:
    auth, vote, results = (f"http://127.0.0.1:{p}" for p in ports)
    async with aiohttp.ClientSession() as http:
        r = await http.post(f"{auth}/v1/auth/otp", json={"election_id": "demo-2026", "voter_id": "voter-000042"})
        assert r.status == 202, await r.text()
        challenge = (await r.json())["challenge_id"]
        code = (await (await http.get(f"{auth}/v1/dev/outbox/demo-2026/voter-000042")).json())["code"]
        r = await http.post(f"{auth}/v1/auth/otp/verify", json={"challenge_id": challenge, "code": code})
        assert r.status == 200, await r.text()
        token = (await r.json())["access_token"]
        definition = await (await http.get(f"{results}/v1/elections/demo-2026")).json()
        # voter-000042 votes in p02: the public definition names the contests on its ballots
        on_ballot = next(p["contests"] for p in definition["precincts"] if p["precinct_id"] == "p02")
        assert on_ballot == ["mayor", "district-1", "council"]
        selections = {c["contest_id"]: [c["options"][0]["option_id"]] for c in definition["contests"] if c["contest_id"] in on_ballot}
        r = await http.post(
            f"{vote}/v1/elections/demo-2026/ballots",
            json={"selections": selections},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
        )
        assert r.status == 201, await r.text()
        receipt = (await r.json())["receipt"]
        mine = await (await http.get(
            f"{vote}/v1/elections/demo-2026/ballots/mine", headers={"Authorization": f"Bearer {token}"}
        )).json()
        assert mine["voted"] is True and mine["receipt"]["receipt_id"] == receipt["receipt_id"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            snapshot = await (await http.get(f"{results}/v1/elections/demo-2026/results")).json()
            if snapshot["turnout"]["voted"] == 1:
                return snapshot
            await asyncio.sleep(0.2)
        raise AssertionError(f"the ballot never reached the results: {snapshot}")


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


async def _metrics_only_internally(port: int) -> None:
    async with aiohttp.ClientSession() as http:
        public = await http.get(f"http://127.0.0.1:{port}/metrics")
        assert public.status == 404 and (await public.json())["code"] == "not_found"
        internal = await http.get(f"http://127.0.0.1:{port + 1000}/metrics")
        assert internal.status == 200 and "ballotline_http_requests_total" in await internal.text()


async def test_make_run_starts_everything_logs_a_voter_in_and_stops_cleanly_twice(tmp_path):
    ports = _free_ports(3)
    first = _start(tmp_path, ports)
    try:
        lines = _wait_for_line(first, "Press Ctrl-C")
        assert any("starting embedded Postgres" in line for line in lines)
        snapshot = await _vote_like_the_readme(ports)
        assert snapshot["turnout"]["eligible"] == 2000
        summary = next(line for line in lines if line.strip().startswith("metrics "))
        for port in ports:
            assert f"http://127.0.0.1:{port + 1000}/metrics" in summary, summary
            await _metrics_only_internally(port)
        assert sum("development mode (BALLOTLINE_ENV=development)" in line for line in lines) >= 3, "each service warns"
        [vote] = [p for p in psutil.Process(first.pid).children(recursive=True) if p.cmdline()[-3:-2] == ["vote"]]
        vote.kill()  # kill -9: the stack restarts it and says so
        _wait_for_line(first, "vote exited with code -9; restarting it", timeout=30)
        deadline = time.monotonic() + 30
        while _status(f"http://127.0.0.1:{ports[1]}/readyz") != 200:
            assert time.monotonic() < deadline, "vote did not come back"
            time.sleep(0.2)
    finally:
        out = _stop(first)
    assert first.returncode == 0, out
    assert "stopped" in out

    second = _start(tmp_path, ports)
    try:
        lines = _wait_for_line(second, "Press Ctrl-C")
        assert any("already exists" in line for line in lines), "".join(lines)
    finally:
        out = _stop(second)
    assert second.returncode == 0, out
    for port in ports:
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers after Ctrl-C"


def test_make_run_restarts_a_crashed_service_but_not_a_misconfigured_or_crash_looping_one():
    from services.cli.devstack import Restarts

    restarts = Restarts()
    assert restarts.refuse("vote", -9, 0.0) is None
    assert "configuration error" in restarts.refuse("vote", 2, 1.0)
    assert all(restarts.refuse("auth", 1, t) is None for t in (0.0, 1.0, 2.0, 3.0, 4.0))
    assert "crashed 6 times" in restarts.refuse("auth", 1, 5.0)
    assert restarts.refuse("auth", 1, 100.0) is None  # a minute later the budget is back
