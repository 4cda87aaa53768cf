"""The open-loop stepper keeps its schedule whatever the server does, measures latency
from the scheduled time, and calls a step saturated past the p99 limit or on errors."""
from __future__ import annotations

import asyncio

from loadtests.openloop.stepper import run_step, saturated


async def test_a_fast_server_meets_the_rate_and_is_not_saturated():
    async def send():
        return None

    step = await run_step(200, 0.5, send)
    assert step.sent == 100 and len(step.latencies) == 100
    assert not saturated(step, 1.0)


async def test_a_slow_server_does_not_slow_the_arrivals_and_is_saturated():
    async def send():
        await asyncio.sleep(0.3)
        return None

    step = await run_step(100, 0.5, send)
    assert step.sent == 50  # arrivals kept their schedule although answers took 300 ms
    assert step.percentile(0.99) >= 0.3 and saturated(step, 0.2)


async def test_errors_and_dropped_requests_count_as_saturation():
    async def send():
        return "HTTP 503"

    step = await run_step(100, 0.2, send)
    assert step.errors == {"HTTP 503": 20} and saturated(step, 1.0)
