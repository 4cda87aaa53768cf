"""`python -m loadtests.openloop`: the saturation points of the results read path and the
ballot path, against a stack it starts (fresh embedded Postgres/Redis, services with
--workers) or against running services (--auth-url/--vote-url/--results-url).

    python -m loadtests.openloop --target results --start 500 --factor 1.5 --step-seconds 10
    python -m loadtests.openloop --target ballots --start 100

Ballot steps need one token per ballot (one ballot per voter): they are obtained through
the real OTP login before each step, and the step then sends only ballots."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from datetime import datetime
from pathlib import Path

import aiohttp

from loadtests.runner import seed
from loadtests.runner.stack import ROOT, Stack

from .stepper import run_step, saturated


async def _login(http: aiohttp.ClientSession, auth: str, election: str, voter: str, n: int) -> str:
    headers = {"X-Forwarded-For": f"198.18.{(n >> 8) & 255}.{n & 255}"}
    async with http.post(f"{auth}/v1/auth/otp", json={"election_id": election, "voter_id": voter}, headers=headers) as r:
        challenge = (await r.json())["challenge_id"]
    async with http.get(f"{auth}/v1/dev/outbox/{election}/{voter}") as r:
        code = (await r.json())["code"]
    async with http.post(f"{auth}/v1/auth/otp/verify", json={"challenge_id": challenge, "code": code}, headers=headers) as r:
        return (await r.json())["access_token"]


async def tokens(http, auth: str, election: str, first: int, count: int) -> list[str]:
    gate = asyncio.Semaphore(64)

    async def one(n: int) -> str:
        async with gate:
            return await _login(http, auth, election, f"v{n:07d}", n)

    return await asyncio.gather(*(one(n) for n in range(first, first + count)))


async def search(args, urls: dict[str, str], election: str) -> list[dict]:
    steps = []
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as http:
        rate, next_voter = args.start, 1
        while rate <= args.max_rate:
            if args.target == "results":
                url = f"{urls['results']}/v1/elections/{election}/results"

                async def send() -> str | None:
                    async with http.get(url) as r:
                        await r.read()
                        return None if r.status == 200 else f"HTTP {r.status}"
            else:
                needed = int(rate * args.step_seconds)
                numbers = range(next_voter, next_voter + needed)
                pool = iter(zip(await tokens(http, urls["auth"], election, next_voter, needed), numbers))
                next_voter += needed
                url = f"{urls['vote']}/v1/elections/{election}/ballots"

                async def send() -> str | None:
                    token, n = next(pool)
                    district = seed.district_of(seed.precinct_of(n))  # the voter's ballot: their district's contests
                    body = {"selections": {"mayor": ["m1"], district: ["against-all"], "council": ["c1"]}}
                    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
                    async with http.post(url, json=body, headers=headers) as r:
                        await r.read()
                        return None if r.status == 201 else f"HTTP {r.status}"

            step = await run_step(rate, args.step_seconds, send)
            steps.append(step.summary())
            print(json.dumps(steps[-1]), flush=True)
            if saturated(step, args.p99_limit_ms / 1000):
                break
            rate = round(rate * args.factor)
    return steps


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m loadtests.openloop", description=__doc__.split("\n\n")[0])
    p.add_argument("--target", choices=["results", "ballots"], default="results")
    p.add_argument("--start", type=float, default=200)
    p.add_argument("--factor", type=float, default=1.5)
    p.add_argument("--max-rate", type=float, default=50_000)
    p.add_argument("--step-seconds", type=float, default=10)
    p.add_argument("--p99-limit-ms", type=float, default=1000)
    p.add_argument("--voters", type=int, default=200_000)
    p.add_argument("--service-workers", default="auth=1,vote=1,results=2")
    p.add_argument("--results-dir", type=Path, default=ROOT / "loadtests" / "results")
    args = p.parse_args(argv)
    run_dir = args.results_dir / f"{datetime.now():%Y%m%d-%H%M%S}-openloop-{args.target}"
    run_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack(run_dir)
    try:
        stack.start_databases()
        seed.seed(stack, stack.data, [("openloop", False, args.voters)])
        stack.start_services({k: int(v) for k, v in (i.split("=") for i in args.service_workers.split(","))})
        urls = {n: stack.url(n) for n in ("auth", "vote", "results")}
        steps = asyncio.run(search(args, urls, "openloop"))
    finally:
        stack.stop()
    good = [s for s in steps if s["p99_ms"] <= args.p99_limit_ms and not s["errors"] and not s["dropped"]]
    verdict = {"target": args.target, "service_workers": args.service_workers, "steps": steps,
               "saturation_rps": good[-1]["achieved_rps"] if good else None,
               "first_failing_rate": steps[-1]["rate"] if steps and steps[-1] not in good else None}
    (run_dir / "openloop.json").write_text(json.dumps(verdict, indent=2))
    print(f"{args.target}: held p99 <= {args.p99_limit_ms:.0f} ms up to {verdict['saturation_rps']} req/s; "
          f"failed at {verdict['first_failing_rate']} req/s offered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
