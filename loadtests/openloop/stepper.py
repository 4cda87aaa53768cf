"""One arrival-rate step: send `rate` requests/s for `seconds`, each at its scheduled
time, and measure latency from the schedule. In-flight requests are capped (`max_inflight`)
so a collapsing server cannot exhaust the client's file descriptors: a request that
cannot leave on time is counted as `dropped` (the server is saturated at that rate)."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class Step:
    rate: float
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    dropped: int = 0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("inf")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def sent(self) -> int:
        return len(self.latencies) + sum(self.errors.values()) + self.dropped

    def summary(self) -> dict:
        return {"rate": self.rate, "sent": self.sent, "ok": len(self.latencies), "errors": self.errors,
                "dropped": self.dropped, "achieved_rps": round(len(self.latencies) / self.seconds, 1),
                "p50_ms": round(self.percentile(0.50) * 1000, 1), "p95_ms": round(self.percentile(0.95) * 1000, 1),
                "p99_ms": round(self.percentile(0.99) * 1000, 1)}


async def run_step(rate: float, seconds: float, send: Callable[[], Awaitable[str | None]], max_inflight: int = 4000) -> Step:
    """`send()` returns None on success or an error label."""
    step = Step(rate, seconds)
    inflight: set[asyncio.Task] = set()
    start = time.perf_counter()
    total = int(rate * seconds)

    async def one(scheduled: float) -> None:
        try:
            error = await send()
        except Exception as exc:  # noqa: BLE001 - a transport error is a result, not a crash
            error = type(exc).__name__
        if error:
            step.errors[error] = step.errors.get(error, 0) + 1
        else:
            step.latencies.append(time.perf_counter() - scheduled)

    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(inflight) >= max_inflight:
            step.dropped += 1
            continue
        task = asyncio.create_task(one(scheduled))
        inflight.add(task)
        task.add_done_callback(inflight.discard)
    if inflight:
        await asyncio.wait(inflight, timeout=30)
    for task in inflight:
        task.cancel()
    return step


def saturated(step: Step, p99_limit_s: float) -> bool:
    failures = sum(step.errors.values()) + step.dropped
    return step.percentile(0.99) > p99_limit_s or failures > 0.001 * max(1, step.sent)
