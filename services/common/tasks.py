"""Stopping background tasks for sure.

A client library that catches CancelledError somewhere inside (a Redis or Postgres call
cancelled mid-flight) leaves a task "cancelling" but running on to its next sleep; a
plain cancel-and-await would then wait forever at shutdown. So cancel again until done.
"""
from __future__ import annotations

import asyncio
import contextlib


async def cancel_all(tasks: list[asyncio.Task], *, retry_every: float = 0.2) -> None:
    for task in tasks:
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=retry_every)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            task.result()
