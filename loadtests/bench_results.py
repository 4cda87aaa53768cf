"""Results read path: GET and 304 revalidations per second against the real results
service vs a bare aiohttp app returning the same bytes with the same number of
processes; then 10,000 SSE subscribers on one process with a snapshot a second.

    .venv/bin/python loadtests/bench_results.py [--workers 2] [--duration 10] [--rounds 3] [--subscribers 10000]

Starts an embedded Postgres and Redis in a temporary folder, creates an election with
1,000 tallied ballots, runs `ballotline serve results --workers N` and the bare app, and
drives both with `wrk` (apt-get install wrk; without it a slower asyncio client is used,
which caps both sides alike). Writes loadtests/results/bench_results.json and prints the
ratios (goal: GET ≥ 0.8× bare, 304 ≥ 0.9× bare). Everything it starts ends with it.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ELECTION = "bench-2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- the bare app


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


# ---------------------------------------------------------------- load generators


def wrk(url: str, duration: int, connections: int, headers: dict[str, str] | None = None) -> dict:
    if shutil.which("wrk") is None:
        return asyncio.run(py_load(url, duration, connections, headers or {}))
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "seconds": duration, "p99": p99.group(1) if p99 else None, "non_2xx_3xx": int(errors.group(1)) if errors else 0}


async def py_load(url: str, duration: int, connections: int, headers: dict[str, str]) -> dict:
    import aiohttp

    done, deadline = 0, time.monotonic() + duration
    async with aiohttp.ClientSession(headers=headers) as session:

        async def one():
            nonlocal done
            while time.monotonic() < deadline:
                async with session.get(url) as r:
                    await r.read()
                done += 1

        await asyncio.gather(*(one() for _ in range(connections)))
    return {"rps": done / duration, "seconds": duration, "p99": None, "non_2xx_3xx": 0, "client": "aiohttp"}


# ---------------------------------------------------------------- SSE subscribers


async def sse_clients(port: int, count: int, seconds: float) -> dict:
    """Hold `count` streams open for `seconds`, counting the snapshot events each gets."""
    request = f"GET /v1/elections/{ELECTION}/results/stream HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    events = [0] * count
    connected = 0
    stop = asyncio.Event()

    async def one(i: int) -> None:
        nonlocal connected
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return
        writer.write(request)
        connected += 1
        tail = b""
        try:
            while not stop.is_set():
                chunk = await reader.read(65536)
                if not chunk:
                    break
                data = tail + chunk
                events[i] += data.count(b"event: results")
                tail = data[-16:]
        finally:
            writer.close()

    tasks = []
    for start in range(0, count, 250):  # ramp up without overflowing the accept backlog
        tasks += [asyncio.create_task(one(i)) for i in range(start, min(count, start + 250))]
        await asyncio.sleep(0.05)
    for _ in range(100):  # until every connection is up (or 10 s)
        if connected >= count:
            break
        await asyncio.sleep(0.1)
    print(json.dumps({"connected": connected}), flush=True)
    await asyncio.sleep(seconds)
    stop.set()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    ordered = sorted(events)
    return {"connected": connected, "events_min": ordered[0], "events_median": ordered[len(ordered) // 2], "events_total": sum(events)}


# ---------------------------------------------------------------- process sampling


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def family(pid: int) -> list[int]:
    """The process and its children (a supervisor's workers)."""
    pids = [pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            pass
    return pids


def measured(pids: list[int], run) -> dict:
    """Run the load and add the servers' CPU time per request: unlike requests per second,
    it does not drop when other work shares the machine."""
    before = sum(cpu_seconds(p) for p in pids)
    result = run()
    used = sum(cpu_seconds(p) for p in pids) - before
    requests = result["rps"] * result.get("seconds", 1)
    result["server_cpu_us_per_request"] = round(1e6 * used / requests, 1) if requests else None
    return result


def wait_http(url: str, timeout: float = 30.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---------------------------------------------------------------- the election


async def prepare(database_url: str, redis_url: str, ballots: int) -> None:
    import asyncpg
    import redis.asyncio as aioredis

    from services.common.catalog import ElectionCatalog
    from services.common.election import Contest, ElectionDefinition, Option, Precinct
    from services.common.elections_db import insert_election
    from services.common.migrate import migrate
    from services.results.settings import TallySettings
    from services.results.worker import TallyWorker

    now = datetime.now(timezone.utc)
    definition = ElectionDefinition(
        election_id=ELECTION, title="Bench", opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1),
        contests=[
            Contest("mayor", "Mayor", [Option(f"m{i}", f"M{i}") for i in range(6)]),
            Contest("council", "Council", [Option(f"c{i}", f"C{i}") for i in range(12)], max_choices=3),
        ],
        precincts=[Precinct(f"p{i:02d}", f"Precinct {i}") for i in range(20)],
    )
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    async with pool.acquire() as conn:
        await migrate(conn)
        async with conn.transaction():
            await insert_election(conn, definition)
            await conn.execute("UPDATE precincts SET eligible = 5000 WHERE election_id = $1", ELECTION)
    for _ in range(ballots):
        await cast_random(pool)
    catalog = ElectionCatalog(pool)
    await catalog.start()
    redis = aioredis.from_url(redis_url)
    await TallyWorker(pool, redis, catalog, TallySettings()).drain()
    await catalog.stop()
    await redis.aclose()
    await pool.close()


async def cast_random(pool) -> None:
    selections = {"mayor": [f"m{random.randrange(6)}"], "council": random.sample([f"c{i}" for i in range(12)], 3)}
    ballot_id = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO ballots (ballot_id, receipt_id, election_id, precinct_id, selections, recorded_at)"
            " VALUES ($1, $2, $3, $4, $5::jsonb, date_trunc('minute', now()))",
            ballot_id, uuid.uuid4().hex, ELECTION, f"p{random.randrange(20):02d}", json.dumps(selections),
        )
        await conn.execute("INSERT INTO tally_outbox (election_id, ballot_id, delta) VALUES ($1, $2, 1)", ELECTION, ballot_id)


async def cast_every_second(database_url: str, seconds: float) -> None:
    import asyncpg

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await cast_random(pool)
            await asyncio.sleep(1.0)
    finally:
        await pool.close()


# ---------------------------------------------------------------- the runs


def serve(env: dict, workers: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", "serve", "results", "--workers", str(workers)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def compare(args, env: dict, tmp: Path) -> dict:
    import urllib.request

    port, bare_port = free_port(), free_port()
    real = serve({**env, "PORT": str(port)}, args.workers)
    bare: list[subprocess.Popen] = []
    try:
        url = f"http://127.0.0.1:{port}/v1/elections/{ELECTION}/results"
        wait_http(url)
        with urllib.request.urlopen(url) as r:
            body, etag, cache_control = r.read(), r.headers["ETag"], r.headers["Cache-Control"]
        (tmp / "body.json").write_bytes(body)
        bare = [
            subprocess.Popen([sys.executable, __file__, "--bare", str(bare_port), str(tmp / "body.json"), etag, cache_control])
            for _ in range(args.workers)
        ]
        bare_url = f"http://127.0.0.1:{bare_port}/v1/elections/{ELECTION}/results"
        wait_http(bare_url)
        real_pids, bare_pids = family(real.pid), [b.pid for b in bare]
        wrk(url, 2, args.connections)  # warm up
        wrk(bare_url, 2, args.connections)
        out: dict = {"body_bytes": len(body)}
        # Alternate real and bare runs and keep each side's best: the machine may be
        # shared, and interference only ever lowers a figure.
        for name, headers in (("get", None), ("304", {"If-None-Match": etag})):
            runs: dict[str, list[dict]] = {"real": [], "bare": []}
            for _ in range(args.rounds):
                runs["real"].append(measured(real_pids, lambda: wrk(url, args.duration, args.connections, headers)))
                runs["bare"].append(measured(bare_pids, lambda: wrk(bare_url, args.duration, args.connections, headers)))
            for side in ("real", "bare"):
                out[f"{name}_{side}"] = max(runs[side], key=lambda r: r["rps"])
                out[f"{name}_{side}_samples"] = [round(r["rps"]) for r in runs[side]]
                out[f"{name}_{side}_cpu_us"] = min(r["server_cpu_us_per_request"] for r in runs[side])
            out[f"{name}_ratio"] = round(out[f"{name}_real"]["rps"] / out[f"{name}_bare"]["rps"], 3)
            out[f"{name}_cpu_ratio"] = round(out[f"{name}_bare_cpu_us"] / out[f"{name}_real_cpu_us"], 3)
        return out
    finally:
        stop(real)
        for b in bare:
            stop(b)


def streams(args, env: dict) -> dict:
    port = free_port()
    server = serve({**env, "PORT": str(port)}, 1)  # one process: the supervisor-less worker
    try:
        url = f"http://127.0.0.1:{port}/v1/elections/{ELECTION}/results"
        wait_http(url)
        time.sleep(1)
        idle = {"rss_mib": round(rss_mib(server.pid), 1), "get": wrk(url, args.duration, args.connections)}
        clients = subprocess.Popen(
            [sys.executable, __file__, "--sse-clients", str(port), str(args.subscribers), str(args.sse_seconds)],
            stdout=subprocess.PIPE, text=True,
        )
        connected = json.loads(clients.stdout.readline())
        time.sleep(3)  # let the last connections settle
        cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
        casting = subprocess.Popen([sys.executable, __file__, "--cast", env["DATABASE_URL"], str(args.sse_seconds)])
        time.sleep(10)
        window = {
            "connected": connected["connected"],
            "rss_mib": round(rss_mib(server.pid), 1),
            "cpu_percent_with_1_snapshot_per_s": round(100 * (cpu_seconds(server.pid) - cpu0) / (time.monotonic() - t0), 1),
        }
        window["get"] = wrk(url, args.duration, args.connections)
        window["get_ratio_vs_idle"] = round(window["get"]["rps"] / idle["get"]["rps"], 3)
        casting.wait(args.sse_seconds + 30)
        received = json.loads(clients.communicate(timeout=args.sse_seconds + 60)[0].strip().splitlines()[-1])
        return {"subscribers": args.subscribers, "idle": idle, "with_subscribers": window, "received": received}
    finally:
        stop(server)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--bare":
        bare_worker(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--sse-clients":
        try:
            import uvloop

            uvloop.install()
        except ImportError:
            pass
        print(json.dumps(asyncio.run(sse_clients(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])))), flush=True)
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--cast":
        asyncio.run(cast_every_second(sys.argv[2], float(sys.argv[3])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="alternating real/bare runs per measure")
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--sse-seconds", type=float, default=45.0)
    parser.add_argument("--log-level", default="WARNING", help="LOG_LEVEL of the service (INFO logs every request)")
    args = parser.parse_args()

    from services.common.embedded import EmbeddedPostgres, EmbeddedRedis

    tmp = Path(tempfile.mkdtemp(prefix="bench-results-"))
    postgres = EmbeddedPostgres(tmp / "pg", delete_on_exit=True)
    redis = EmbeddedRedis(tmp / "redis").start()
    try:
        env = {**os.environ, "DATABASE_URL": postgres.url(), "REDIS_URL": redis.url(), "LOG_LEVEL": args.log_level}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        asyncio.run(prepare(env["DATABASE_URL"], env["REDIS_URL"], 1000))
        report = {
            "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "cpus": os.cpu_count(),
            "workers": args.workers,
            "connections": args.connections,
            "duration_s": args.duration,
            "rounds": args.rounds,
            "client": "wrk -t1" if shutil.which("wrk") else "aiohttp",
            "log_level": args.log_level,
        }
        report["read_path"] = compare(args, env, tmp)
        print(json.dumps(report["read_path"], indent=1), flush=True)
        if args.subscribers:
            report["stream"] = streams(args, env)
        out = ROOT / "loadtests" / "results" / "bench_results.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        rp = report["read_path"]
        for name, goal in (("get", 0.8), ("304", 0.9)):
            print(f"{name.upper():4} real {rp[name + '_real']['rps']:.0f}/s  bare {rp[name + '_bare']['rps']:.0f}/s"
                  f"  ratio {rp[name + '_ratio']} (goal ≥ {goal});  server CPU/request real {rp[name + '_real_cpu_us']} µs"
                  f"  bare {rp[name + '_bare_cpu_us']} µs  ratio {rp[name + '_cpu_ratio']}")
        if "stream" in report:
            s = report["stream"]
            print(f"SSE  {s['with_subscribers']['connected']} subscribers: RSS {s['with_subscribers']['rss_mib']} MiB"
                  f" (idle {s['idle']['rss_mib']}), CPU {s['with_subscribers']['cpu_percent_with_1_snapshot_per_s']}%,"
                  f" GET {s['with_subscribers']['get']['rps']:.0f}/s = {s['with_subscribers']['get_ratio_vs_idle']}x idle,"
                  f" events/subscriber median {s['received']['events_median']} min {s['received']['events_min']}")
        print(f"written to {out}")
        return 0
    finally:
        redis.stop()
        postgres.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
