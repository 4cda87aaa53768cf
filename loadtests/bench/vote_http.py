"""The HTTP phases of the vote benchmark: the service started with the phase's settings,
warmed up, then driven by wrk (closed loop), the aiohttp fallback, or the open-loop client
at a given rate, with the CPU of every process involved measured over the interval."""
from __future__ import annotations

from .cpu import CpuMeter
from .vote_ballot import raw_request
from .vote_closedloop import closed_loop
from .vote_direct import count_ballots
from .vote_lua import wrk_files
from .vote_openloop import lean_open_loop
from .vote_report import summary
from .vote_service import Service
from .vote_tokens import mint
from .wrk import WRK, run_script


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
            out = await run_script(service.base, warm_script, args.clients, args.wrk_threads, args.max_seconds)
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
            out = await run_script(service.base, script, args.clients, args.wrk_threads, args.max_seconds)
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
