"""The two measures of the results benchmark: the read path (GET and 304) of the real
service against the bare app, alternating runs; then one process with many SSE
subscribers while a ballot a second changes the results."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import ROOT
from .net import free_port, wait_http
from .procfs import cpu_seconds, family, rss_mib
from .results_election import ELECTION
from .wrk import get_load


def _module(name: str) -> list[str]:
    return [sys.executable, "-m", f"loadtests.bench.{name}"]


def measured(pids: list[int], run) -> dict:
    """Run the load and add the servers' CPU time per request: unlike requests per second,
    it does not drop when other work shares the machine."""
    before = sum(cpu_seconds(p) for p in pids)
    result = run()
    used = sum(cpu_seconds(p) for p in pids) - before
    requests = result["rps"] * result.get("seconds", 1)
    result["server_cpu_us_per_request"] = round(1e6 * used / requests, 1) if requests else None
    return result


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
            subprocess.Popen(_module("results_bare") + [str(bare_port), str(tmp / "body.json"), etag, cache_control],
                             cwd=ROOT)
            for _ in range(args.workers)
        ]
        bare_url = f"http://127.0.0.1:{bare_port}/v1/elections/{ELECTION}/results"
        wait_http(bare_url)
        real_pids, bare_pids = family(real.pid), [b.pid for b in bare]
        get_load(url, 2, args.connections)  # warm up
        get_load(bare_url, 2, args.connections)
        out: dict = {"body_bytes": len(body)}
        # Alternate real and bare runs and keep each side's best: the machine may be
        # shared, and interference only ever lowers a figure.
        for name, headers in (("get", None), ("304", {"If-None-Match": etag})):
            runs: dict[str, list[dict]] = {"real": [], "bare": []}
            for _ in range(args.rounds):
                runs["real"].append(measured(real_pids, lambda: get_load(url, args.duration, args.connections, headers)))
                runs["bare"].append(measured(bare_pids, lambda: get_load(bare_url, args.duration, args.connections, headers)))
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
        idle = {"rss_mib": round(rss_mib(server.pid), 1), "get": get_load(url, args.duration, args.connections)}
        clients = subprocess.Popen(
            _module("results_sse") + [str(port), str(args.subscribers), str(args.sse_seconds)],
            stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )
        connected = json.loads(clients.stdout.readline())
        time.sleep(3)  # let the last connections settle
        cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
        casting = subprocess.Popen(_module("results_election") + [env["DATABASE_URL"], str(args.sse_seconds)], cwd=ROOT,
                                   env=env)
        time.sleep(10)
        window = {
            "connected": connected["connected"],
            "rss_mib": round(rss_mib(server.pid), 1),
            "cpu_percent_with_1_snapshot_per_s": round(100 * (cpu_seconds(server.pid) - cpu0) / (time.monotonic() - t0), 1),
        }
        window["get"] = get_load(url, args.duration, args.connections)
        window["get_ratio_vs_idle"] = round(window["get"]["rps"] / idle["get"]["rps"], 3)
        casting.wait(args.sse_seconds + 30)
        received = json.loads(clients.communicate(timeout=args.sse_seconds + 60)[0].strip().splitlines()[-1])
        return {"subscribers": args.subscribers, "idle": idle, "with_subscribers": window, "received": received}
    finally:
        stop(server)
