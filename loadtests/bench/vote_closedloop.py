"""The closed-loop fallback without wrk: aiohttp keep-alive clients in this process
(which cost more CPU than the server does per request on a small machine)."""
from __future__ import annotations

import asyncio
import time
import uuid

from .vote_ballot import BODY, PATH


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
