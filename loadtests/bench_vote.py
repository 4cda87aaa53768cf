"""Vote throughput and CPU cost: HTTP through the real service against the direct-to-Postgres
ceilings.

    .venv/bin/python loadtests/bench_vote.py [--ballots 20000] [--clients 64] [--workers 2]

One run, one fresh database (on the server named by DATABASE_URL, else an embedded
Postgres in a temporary folder; Redis likewise from REDIS_URL or embedded), a fake auth
JWKS server in this process, tokens for every voter minted here. It measures, each with
new voters and at the same durability (synchronous_commit = on):

1. HTTP, group commit: `ballotline serve vote --workers W` (default settings), C
   keep-alive connections as fast as they go: ballots/s, p50/p99.
2. HTTP, one transaction per request: the same service with VOTE_BATCH_MAX=1.
3. Direct asyncpg, one transaction per ballot (16 concurrent), the service's statements.
4. Direct asyncpg, batched statements (200 ballots per transaction): the ceiling.
5. HTTP, group commit, open loop at half of (1)'s rate: p50/p99 measured from each
   request's scheduled send time (no coordinated omission).

The closed-loop HTTP phases are driven by wrk (/usr/bin/wrk, closed loop) with a Lua
script that replays pre-generated requests (one token per voter, a unique
Idempotency-Key, the body) from a file, so the load generator costs a few µs a request.
Without wrk they fall back to an aiohttp client (which costs more CPU than the server
does per request on a small machine: the output says so). Phase 5 uses a lean asyncio
client (raw HTTP/1.1 over keep-alive sockets, pre-serialised requests) because wrk has
no open-loop mode.

Every phase also reports CPU per ballot, from /proc: the vote worker processes
(utime+stime over the measured interval ÷ ballots), the Postgres server processes, the
load generator, and the whole machine (busy time from /proc/stat; includes anything else
running). CPU per ballot is far less sensitive to a noisy machine than ballots/s.

Prints the figures and ratios and writes loadtests/results/bench_vote.json. Client and
server share the machine's cores: compare figures within one run.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import json
import os
import platform
import resource
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
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
import msgspec
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.election import Contest, ElectionDefinition, Option, Precinct
from services.common.elections_db import insert_election, load_elections
from services.common.migrate import migrate
from services.vote.preparing import BallotPreparer
from services.vote.receipts import ReceiptSigner, public_jwk
from services.vote.sealing import Keyring
from services.vote.store import BallotStore
from services.vote.tokens import Claims

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "loadtests" / "results" / "bench_vote.json"
SECRET = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
SELECTIONS = {"mayor": ["alice"], "council": ["green", "red"]}
BODY = msgspec.json.encode({"selections": SELECTIONS})
PATH = "/v1/elections/bench/ballots"
AUTH_KEY = Ed25519PrivateKey.generate()
AUTH_JWK = public_jwk(AUTH_KEY.public_key())
WRK = shutil.which("wrk") or ("/usr/bin/wrk" if Path("/usr/bin/wrk").exists() else None)
TICK = os.sysconf("SC_CLK_TCK")


def definition() -> ElectionDefinition:
    opens = datetime.now(timezone.utc) - timedelta(hours=1)
    return ElectionDefinition(
        election_id="bench", title="Vote benchmark", opens_at=opens, closes_at=opens + timedelta(days=1),
        contests=[
            Contest("mayor", "Mayor", [Option(o, o) for o in ("alice", "bob", "carol")]),
            Contest("council", "Council", [Option(o, o) for o in ("green", "blue", "red", "gold")], max_choices=2),
        ],
        precincts=[Precinct(f"p{i:02d}", f"Precinct {i}") for i in range(20)],
    )


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


_JWT_HEADER = _b64(msgspec.json.encode({"alg": "EdDSA", "kid": AUTH_JWK["kid"], "typ": "JWT"}))


def mint(voter: str) -> str:
    """An access token as the auth service issues it (compact JWS, EdDSA), built directly:
    minting tens of thousands with PyJWT would take longer than the measurement."""
    now = int(time.time())
    claims = {"iss": "ballotline-auth", "aud": "ballotline-vote", "sub": voter, "eid": "bench",
              "pct": f"p{hash(voter) % 20:02d}", "amr": ["otp"], "iat": now, "exp": now + 900, "jti": uuid.uuid4().hex}
    signing_input = _JWT_HEADER + b"." + _b64(msgspec.json.encode(claims))
    return (signing_input + b"." + _b64(AUTH_KEY.sign(signing_input))).decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1) if ordered else 0.0


# --- CPU accounting from /proc -------------------------------------------------------

def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (all its threads), in seconds."""
    fields = _stat(pid)  # fields[0] is field 3 (state): utime is field 14, stime 15
    return None if fields is None else (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry))
    return found


def machine_busy_seconds() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / TICK


class CpuMeter:
    """CPU used by groups of processes between `start` and `stop`. A group is a function
    returning its pids, asked at both ends (a process born meanwhile counts from zero)."""

    def __init__(self, groups: dict[str, object]) -> None:
        self.groups = groups
        self.before: dict[str, dict[int, float]] = {}
        self.used: dict[str, float] = {}

    def _sample(self) -> dict[str, dict[int, float]]:
        out = {}
        for name, pids in self.groups.items():
            out[name] = {pid: cpu for pid in pids() if (cpu := cpu_seconds(pid)) is not None}
        return out

    def start(self) -> None:
        self.before = self._sample()
        self._self = resource.getrusage(resource.RUSAGE_SELF)
        self._children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self._machine = machine_busy_seconds()

    def stop(self, *, load_generator: str | float) -> None:
        after = self._sample()
        for name, now in after.items():
            self.used[name] = sum(cpu - self.before[name].get(pid, 0.0) for pid, cpu in now.items())
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        if isinstance(load_generator, float):  # measured by the caller (wrk, from /proc)
            self.used["load_generator"] = load_generator
        elif load_generator == "children":  # a child process that has been waited for
            self.used["load_generator"] = kids.ru_utime + kids.ru_stime - self._children.ru_utime - self._children.ru_stime
        else:  # this process (Python client / direct asyncpg writer)
            self.used["load_generator"] = me.ru_utime + me.ru_stime - self._self.ru_utime - self._self.ru_stime
        self.used["machine_busy"] = machine_busy_seconds() - self._machine

    def per_ballot(self, ballots: int) -> dict[str, float]:
        return {name: round(seconds / ballots * 1e6, 1) for name, seconds in self.used.items()} if ballots else {}


class Postgres:
    """The Postgres server's processes, when it runs on this machine (postmaster + children)."""

    def __init__(self) -> None:
        self.postmaster: int | None = None

    async def locate(self, url: str) -> None:
        conn = await asyncpg.connect(url)
        try:
            data = await conn.fetchval("SELECT setting FROM pg_settings WHERE name = 'data_directory'")
        finally:
            await conn.close()
        try:
            self.postmaster = int(Path(data, "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError, TypeError):
            self.postmaster = None  # another machine, or not readable: no Postgres CPU figure

    def pids(self) -> list[int]:
        return [self.postmaster, *children(self.postmaster)] if self.postmaster else []


def summary(label: str, n: int, seconds: float, latencies: list[float] | None = None, *,
            cpu: CpuMeter | None = None, extra: dict | None = None, cpu_ballots: int | None = None) -> dict:
    row = {"phase": label, "ballots": n, "seconds": round(seconds, 2), "ballots_per_s": round(n / seconds)}
    if latencies:
        row |= {"p50_ms": pct(latencies, 0.50), "p99_ms": pct(latencies, 0.99)}
    if cpu is not None:
        row["cpu_us_per_ballot"] = cpu.per_ballot(cpu_ballots or n)
    row |= extra or {}
    print(json.dumps(row), flush=True)
    return row


# --- the service under test ---------------------------------------------------------

class Service:
    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        self.port = free_port()
        self.workers = workers
        self.base = f"http://127.0.0.1:{self.port}"
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(ROOT / ".venv/bin/ballotline"), "serve", "vote", "--workers", str(workers)],
                env={**os.environ, **env, "PORT": str(self.port)}, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )

    def worker_pids(self) -> list[int]:
        return children(self.process.pid) if self.workers > 1 else [self.process.pid]

    async def ready(self, session: aiohttp.ClientSession) -> None:
        """Ready when every worker is: 20 answers in a row on new connections (which the
        kernel spreads over the SO_REUSEPORT workers) are 200."""
        in_a_row = 0
        for _ in range(800):
            try:
                async with session.get(self.base + "/readyz", headers={"Connection": "close"}) as r:
                    in_a_row = in_a_row + 1 if r.status == 200 and len(self.worker_pids()) >= self.workers else 0
            except aiohttp.ClientError:
                in_a_row = 0
            if in_a_row >= 20:
                return
            await asyncio.sleep(0.005 if in_a_row else 0.05)
        raise RuntimeError("the vote service did not become ready; see its log")

    def stop(self) -> None:
        self.process.terminate()  # SIGTERM to the supervisor, which forwards it
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


# --- load generators ----------------------------------------------------------------

WRK_SCRIPT = """
-- Generated by loadtests/bench_vote.py: replays pre-generated ballot requests, each once.
local FILE, PATH, NTHREADS, MARK = %(file)s, %(path)s, %(threads)d, %(mark)s
local BODY = %(body)s
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *ts);
]]
local ts = ffi.new("bench_timespec")
local function now()  -- CLOCK_MONOTONIC, seconds
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end
local counter, threads = 0, {}

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  threads[#threads + 1] = thread
end

function init(args)
  reqs, idx, exhausted, t_start, t_stop = {}, 0, 0, 0, 0
  local i = 0
  for line in io.lines(FILE) do
    if i %% NTHREADS == tid then
      local sp = line:find(" ", 1, true)
      reqs[#reqs + 1] = wrk.format("POST", PATH, {
        ["Authorization"] = "Bearer " .. line:sub(1, sp - 1),
        ["Idempotency-Key"] = line:sub(sp + 1),
        ["Content-Type"] = "application/json",
      }, BODY)
    end
    i = i + 1
  end
  count = #reqs
  -- A thread that has sent its share stops (and tells the benchmark, which then ends
  -- wrk with SIGINT); the request it must still return is a cheap 404 that touches no
  -- database, counted as non-2xx, never as a ballot.
  fallback = wrk.format("GET", "/bench-exhausted")
end

function request()
  idx = idx + 1
  local r = reqs[idx]
  if r then
    if idx == 1 then t_start = now() end
    return r
  end
  if exhausted == 0 then
    exhausted = 1
    t_stop = now()
    wrk.thread:stop()
    local f = io.open(MARK .. "." .. tid, "w")
    f:write("done\\n")
    f:close()
  end
  return fallback
end

function done(summary, latency, requests)
  local exhausted_threads, prepared, first, last = 0, 0, math.huge, 0
  for _, t in ipairs(threads) do
    exhausted_threads = exhausted_threads + t:get("exhausted")
    prepared = prepared + t:get("count")
    local a, b = t:get("t_start"), t:get("t_stop")
    if a > 0 and a < first then first = a end
    if b > last then last = b end
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"duration_us": %%d, "requests": %%d, "non2xx": %%d, "connect": %%d, "read": %%d, ' ..
    '"write": %%d, "timeout": %%d, "p50_us": %%d, "p99_us": %%d, "prepared": %%d, "exhausted_threads": %%d, ' ..
    '"first_request_s": %%.6f, "last_stop_s": %%.6f}\\n',
    summary.duration, summary.requests, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), prepared, exhausted_threads, first, last))
end
"""


def wrk_files(tmp: Path, label: str, tokens: list[str], threads: int) -> Path:
    requests = tmp / f"{label}.requests"
    requests.write_text("".join(f"{token} {uuid.uuid4().hex}\n" for token in tokens))
    script = tmp / f"{label}.lua"
    script.write_text(WRK_SCRIPT % {
        "file": json.dumps(str(requests)), "path": json.dumps(PATH), "threads": threads,
        "body": json.dumps(BODY.decode()), "mark": json.dumps(str(tmp / f"{label}.exhausted")),
    })
    return script


async def run_wrk(base: str, script: Path, connections: int, threads: int, max_seconds: float) -> dict:
    """Run wrk without blocking this event loop (it serves the JWKS the workers fetch).
    wrk's main thread sleeps for the whole -d duration even when every thread has
    stopped, so once every thread has marked itself exhausted it gets a SIGINT, which
    ends the sleep; the rate uses the threads' own clock (first request to exhaustion)."""
    marks = [Path(f"{script.with_suffix('')}.exhausted.{t}") for t in range(threads)]
    command = [WRK, "-t", str(threads), "-c", str(connections), "-d", f"{int(max_seconds)}s", "--timeout", "10s",
               "-s", str(script), base]
    process = await asyncio.create_subprocess_exec(*command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wrk_cpu = None
    try:
        deadline = time.monotonic() + max_seconds + 5
        while process.returncode is None and time.monotonic() < deadline:
            if all(m.exists() for m in marks):
                wrk_cpu = cpu_seconds(process.pid)
                process.send_signal(signal.SIGINT)
                break
            await asyncio.sleep(0.02)
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    for line in stdout.decode().splitlines():
        if line.startswith("WRKJSON "):
            out = json.loads(line[len("WRKJSON "):])
            out["cpu_seconds"] = wrk_cpu
            return out
    raise RuntimeError(f"wrk failed ({process.returncode}): {stdout.decode()[-2000:]} {stderr.decode()[-2000:]}")


def raw_request(token: str) -> bytes:
    return (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Idempotency-Key: {uuid.uuid4().hex}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(BODY)}\r\n\r\n").encode() + BODY


class _Connection(asyncio.Protocol):
    def __init__(self, client: "LeanClient") -> None:
        self.client = client
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.intended = 0.0

    def connection_made(self, transport) -> None:
        self.transport = transport

    def send(self, request: bytes, intended: float) -> None:
        self.intended = intended
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = bytes(self.buffer[:end]).split(b"\r\n")
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            del self.buffer[:end + 4 + length]
            self.client.finished(self, int(lines[0].split(b" ", 2)[1]))

    def connection_lost(self, exc) -> None:
        self.client.lost(exc)


class LeanClient:
    """Raw HTTP/1.1 over keep-alive connections, for pre-serialised requests. A request
    that finds no idle connection waits in a queue; its latency runs from its scheduled
    time, so queueing on either side is measured (open loop, no coordinated omission)."""

    def __init__(self, port: int, connections: int) -> None:
        self.port = port
        self.size = connections
        self.idle: list[_Connection] = []
        self.pending: collections.deque[tuple[bytes, float]] = collections.deque()
        self.latencies: list[float] = []
        self.statuses: collections.Counter[int] = collections.Counter()
        self.outstanding = 0
        self.drained = asyncio.Event()
        self.error: BaseException | None = None

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(self.size):
            _, conn = await loop.create_connection(lambda: _Connection(self), "127.0.0.1", self.port)
            self.idle.append(conn)

    def send(self, request: bytes, intended: float) -> None:
        self.outstanding += 1
        if self.idle:
            self.idle.pop().send(request, intended)
        else:
            self.pending.append((request, intended))

    def finished(self, conn: _Connection, status: int) -> None:
        self.latencies.append(time.perf_counter() - conn.intended)
        self.statuses[status] += 1
        self.outstanding -= 1
        if self.pending:
            conn.send(*self.pending.popleft())
        else:
            self.idle.append(conn)
        if not self.outstanding:
            self.drained.set()

    def lost(self, exc) -> None:
        if self.outstanding:
            self.error = exc or ConnectionError("the server closed a connection")
            self.drained.set()

    async def wait(self) -> None:
        while self.outstanding and self.error is None:
            self.drained.clear()
            await self.drained.wait()
        if self.error is not None:
            raise RuntimeError(f"open-loop client: {self.error!r}")

    def close(self) -> None:
        for conn in self.idle:
            conn.transport.close()


async def lean_open_loop(port: int, requests: list[bytes], rate: float, connections: int) -> tuple[float, LeanClient]:
    client = LeanClient(port, connections)
    await client.open()
    started = time.perf_counter() + 0.01
    for i, request in enumerate(requests):
        intended = started + i / rate
        delay = intended - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        client.send(request, intended)
    await client.wait()
    seconds = time.perf_counter() - started
    client.close()
    return seconds, client


async def post(session, base: str, token: str, latencies: list[float]) -> None:
    started = time.perf_counter()
    headers = {"Authorization": "Bearer " + token, "Idempotency-Key": uuid.uuid4().hex, "Content-Type": "application/json"}
    async with session.post(base + PATH, data=BODY, headers=headers) as r:
        await r.read()
        if r.status != 201:
            raise RuntimeError(f"unexpected {r.status}: {await r.text()}")
    latencies.append(time.perf_counter() - started)


async def closed_loop(session, base: str, tokens: list[str], clients: int) -> tuple[float, list[float]]:
    """The fallback without wrk: aiohttp keep-alive clients in this process."""
    latencies: list[float] = []
    todo = iter(tokens)

    async def client() -> None:
        for token in todo:
            await post(session, base, token, latencies)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started, latencies


# --- phases -------------------------------------------------------------------------

async def count_ballots(url: str, prefix: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM participation WHERE election_id = 'bench' AND voter LIKE $1", prefix + "%")
    finally:
        await conn.close()


async def http_phase(label: str, env: dict, args, ctx: dict, session, *, n: int, rate: float | None = None) -> dict:
    tmp, url, pg = ctx["tmp"], ctx["url"], ctx["pg"]
    prefix = f"{label}-"
    warm = [mint(f"warm-{label}-{i}") for i in range(args.warmup)]
    if rate:
        requests = [raw_request(mint(f"{prefix}{i}")) for i in range(n)]
    else:
        tokens = [mint(f"{prefix}{i}") for i in range(n)]
    use_wrk = WRK is not None and not args.no_wrk
    if use_wrk:
        warm_script = wrk_files(tmp, f"warm-{label}", warm, args.wrk_threads)
    if use_wrk and not rate:
        script = wrk_files(tmp, label, tokens, args.wrk_threads)
    service = Service(env, args.workers, ctx["log"])
    try:
        await service.ready(session)
        meter = CpuMeter({"vote_workers": service.worker_pids, "vote_supervisor": lambda: [service.process.pid],
                          "postgres": pg.pids})
        if use_wrk:  # warm-up: connections, statement caches, both workers
            out = await run_wrk(service.base, warm_script, args.clients, args.wrk_threads, args.max_seconds)
            if out["non2xx"] > out["exhausted_threads"] or out["requests"] == 0:
                raise RuntimeError(f"warm-up: {out['non2xx']} of {out['requests']} requests were not 2xx; see the log")
        else:
            await closed_loop(session, service.base, warm, args.clients)
        cpu_ballots = None  # ballots the server did the work for, when more than the ones counted
        if rate:
            meter.start()
            seconds, client = await lean_open_loop(service.port, requests, rate, args.open_connections)
            meter.stop(load_generator="self")
            ballots = client.statuses.get(201, 0)
            extra = {"driver": "lean asyncio open loop (load_generator = the benchmark process)", "target_rate": round(rate),
                     "statuses": {str(k): v for k, v in sorted(client.statuses.items())}}
            latencies = client.latencies
        elif use_wrk:
            meter.start()
            out = await run_wrk(service.base, script, args.clients, args.wrk_threads, args.max_seconds)
            meter.stop(load_generator=out["cpu_seconds"] if out["cpu_seconds"] is not None else "children")
            exhausted = out["exhausted_threads"]
            if out["prepared"] != n:
                raise RuntimeError(f"wrk loaded {out['prepared']} of {n} requests")
            if exhausted == args.wrk_threads:
                seconds = out["last_stop_s"] - out["first_request_s"]
            else:
                seconds = out["duration_us"] / 1e6
            ballots = out["requests"] - out["non2xx"]  # 2xx answers received before the last thread stopped
            latencies = None
            extra = {"driver": f"wrk -t{args.wrk_threads} -c{args.clients} (closed loop; load_generator = wrk, "
                               "including loading its requests)",
                     "p50_ms": round(out["p50_us"] / 1000, 1), "p99_ms": round(out["p99_us"] / 1000, 1),
                     "non_2xx": out["non2xx"],  # may include one cheap 404 per thread after its last ballot
                     "socket_errors": out["connect"] + out["read"] + out["write"] + out["timeout"]}
            if exhausted < args.wrk_threads:
                extra["note"] = f"stopped by the {args.max_seconds}s cap before sending every request"
            cpu_ballots = await count_ballots(url, prefix)  # includes the last in-flight ones
        else:
            meter.start()
            seconds, latencies = await closed_loop(session, service.base, tokens, args.clients)
            meter.stop(load_generator="self")
            ballots = len(latencies)
            extra = {"driver": f"aiohttp closed loop, {args.clients} clients in the benchmark process (wrk not found)"}
        extra["committed_in_db"] = cpu_ballots or await count_ballots(url, prefix)
        row = summary(label, ballots, seconds, latencies, cpu=meter, extra=extra, cpu_ballots=extra["committed_in_db"])
        return row
    finally:
        service.stop()


async def direct_phase(label: str, ctx: dict, n: int, batch: int, concurrency: int) -> dict:
    url, pg = ctx["url"], ctx["pg"]
    pool = await asyncpg.create_pool(url, min_size=concurrency, max_size=concurrency,
                                     server_settings={"synchronous_commit": "on"})
    keyring = Keyring(SECRET.encode())
    preparer = BallotPreparer(keyring, ReceiptSigner(Ed25519PrivateKey.generate()))
    async with pool.acquire() as conn:
        election = (await load_elections(conn))["bench"]
    items = []
    for i in range(n):
        voter = f"{label}-{i}"
        scope = keyring.idempotency_scope("bench", voter, uuid.uuid4().hex)
        fp = keyring.request_fingerprint("POST", PATH, BODY)
        claims = Claims(voter, "bench", f"p{i % 20:02d}")
        items.append(preparer.prepare(election, claims, scope, fp, SELECTIONS, datetime.now(timezone.utc)))
    store = BallotStore(pool, keyring)
    chunks = iter([items[i:i + batch] for i in range(0, n, batch)])

    async def writer() -> None:
        for chunk in chunks:
            await store.write(chunk)

    meter = CpuMeter({"postgres": pg.pids})
    meter.start()
    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    meter.stop(load_generator="self")
    await pool.close()
    return summary(label, n, seconds, cpu=meter, extra={
        "driver": f"asyncpg, {batch} ballot(s) per transaction, {concurrency} concurrent (load_generator = the writer)",
        "committed_in_db": await count_ballots(url, f"{label}-")})


async def run(url: str, redis_url: str, args, tmp: Path) -> dict:
    conn = await asyncpg.connect(url)
    await migrate(conn)
    async with conn.transaction():
        await insert_election(conn, definition())
    await conn.close()
    pg = Postgres()
    await pg.locate(url)
    jwks = web.Application()

    async def keys(request: web.Request) -> web.Response:
        return web.json_response({"keys": [AUTH_JWK]})

    jwks.router.add_get("/.well-known/jwks.json", keys)
    runner = web.AppRunner(jwks)
    await runner.setup()
    jwks_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", jwks_port).start()
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    env = {"DATABASE_URL": url, "REDIS_URL": redis_url, "VOTE_JWKS_URL": f"http://127.0.0.1:{jwks_port}/.well-known/jwks.json",
           "VOTE_SECRET_KEY": SECRET, "VOTE_SIGNING_KEY": pem, "LOG_LEVEL": "WARNING", "BALLOTLINE_ENV": "development"}
    ctx = {"tmp": tmp, "url": url, "pg": pg, "log": tmp / "vote.log"}
    if WRK is None or args.no_wrk:
        print("wrk not found (or --no-wrk): closed-loop HTTP phases use the aiohttp client in this process, "
              "which shares the cores with the server and caps what can be measured", flush=True)
    phases = {}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        phases["http"] = await http_phase("http", env, args, ctx, session, n=args.ballots)
        phases["http_per_request"] = await http_phase(
            "http_per_request", env | {"VOTE_BATCH_MAX": "1", "VOTE_BATCH_FLUSHERS": "8", "VOTE_BATCH_WAIT_MS": "0"},
            args, ctx, session, n=args.per_request_ballots)
        phases["direct_per_ballot"] = await direct_phase("direct_per_ballot", ctx, args.per_request_ballots, 1, 16)
        phases["direct_batched"] = await direct_phase("direct_batched", ctx, args.ballots, 200, 2)
        rate = phases["http"]["ballots_per_s"] / 2
        phases["http_half_rate"] = await http_phase(
            "http_half_rate", env, args, ctx, session, n=int(rate * args.half_seconds), rate=rate)
    await runner.cleanup()
    ceiling = phases["direct_batched"]["ballots_per_s"]
    ratios = {
        "http_vs_batched_ceiling": round(phases["http"]["ballots_per_s"] / ceiling, 2),
        "http_per_request_vs_batched_ceiling": round(phases["http_per_request"]["ballots_per_s"] / ceiling, 2),
        "direct_per_ballot_vs_batched_ceiling": round(phases["direct_per_ballot"]["ballots_per_s"] / ceiling, 2),
        "http_group_commit_vs_http_per_request": round(
            phases["http"]["ballots_per_s"] / phases["http_per_request"]["ballots_per_s"], 2),
    }
    print(json.dumps(ratios), flush=True)
    return {"phases": phases, "ratios": ratios,
            "goals": {"http_at_least_half_of_ceiling": ratios["http_vs_batched_ceiling"] >= 0.5,
                      "p99_under_100ms_at_half_rate": phases["http_half_rate"]["p99_ms"] < 100,
                      "vote_cpu_under_350us_per_ballot":
                          phases["http"]["cpu_us_per_ballot"].get("vote_workers", 1e9) < 350}}


async def admin(server_url: str, sql: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=20000, help="ballots in the group-commit and batched phases")
    parser.add_argument("--per-request-ballots", type=int, default=4000,
                        help="ballots in the one-transaction-per-ballot phases (HTTP and direct)")
    parser.add_argument("--clients", type=int, default=64, help="keep-alive connections of the closed-loop phases")
    parser.add_argument("--workers", type=int, default=2, help="vote service processes")
    parser.add_argument("--warmup", type=int, default=1000, help="warm-up requests before each HTTP phase")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (1 is plenty on loopback)")
    parser.add_argument("--max-seconds", type=float, default=60, help="cap on one wrk run")
    parser.add_argument("--half-seconds", type=float, default=10.0, help="length of the half-rate phase")
    parser.add_argument("--open-connections", type=int, default=128, help="connections of the open-loop client")
    parser.add_argument("--no-wrk", action="store_true", help="use the aiohttp client even if wrk is installed")
    args = parser.parse_args()

    def interrupted(signum, frame):  # a SIGTERM (e.g. from `timeout`) still stops what was started
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        import uvloop

        uvloop.install()  # the benchmark's own clients cost less CPU on uvloop
    except ImportError:
        pass
    with tempfile.TemporaryDirectory(prefix="ballotline-bench-vote-") as tmp:
        server, redis_url, embedded, redis = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL"), None, None
        if not server:
            from services.common.embedded import EmbeddedPostgres

            embedded = EmbeddedPostgres(Path(tmp) / "pg", delete_on_exit=True)
            server = embedded.url("postgres")
        if not redis_url:
            from services.common.embedded import EmbeddedRedis

            redis = EmbeddedRedis(Path(tmp) / "redis").start()
            redis_url = redis.url()
        name = f"ballotline_bench_vote_{uuid.uuid4().hex[:8]}"
        asyncio.run(admin(server, f'CREATE DATABASE "{name}"'))
        try:
            url = urlunsplit(urlsplit(server)._replace(path="/" + name))
            result = asyncio.run(run(url, redis_url, args, Path(tmp)))
        finally:
            asyncio.run(admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if redis:
                redis.stop()
            if embedded:
                embedded.stop()
    result |= {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "settings": vars(args) | {"wrk": WRK}, "postgres": "DATABASE_URL" if not embedded else "embedded (pgserver)",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "cpu_note": "cpu_us_per_ballot: utime+stime from /proc over the measured interval / ballots; vote_workers is "
                    "the service's CPU per ballot, machine_busy includes everything running on the machine",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results in {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
