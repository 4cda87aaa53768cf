"""Run blocking code (the `ballotline` command, which starts its own event loop) from an
async test, on a thread of its own: a pooled worker thread may still carry the running
loop of an earlier test's blocking call, and asyncio.run refuses to start there."""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any


async def off_loop(fn: Callable[..., Any], *args: Any) -> Any:
    loop = asyncio.get_running_loop()
    done: asyncio.Future = loop.create_future()

    def run() -> None:
        try:
            result = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting test
            loop.call_soon_threadsafe(_settle, done, None, exc)
        else:
            loop.call_soon_threadsafe(_settle, done, result, None)

    threading.Thread(target=run, daemon=True).start()
    return await done


def _settle(done: asyncio.Future, result: Any, exc: BaseException | None) -> None:
    if done.done():
        return
    if exc is not None:
        done.set_exception(exc)
    else:
        done.set_result(result)
