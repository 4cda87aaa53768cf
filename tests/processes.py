"""Helpers for tests that talk to services over real sockets: a free loopback port, a
plain GET on a new connection, and waiting until in-process services are ready."""
from __future__ import annotations

import asyncio
import socket
import urllib.error
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 5) -> tuple[int, str]:
    """(status, body) on a new connection (so the kernel spreads them over workers);
    (0, "") when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


async def until_ready(*clients, attempts: int = 200) -> None:
    """Wait until every test client's service answers /readyz with 200."""
    for client in clients:
        for _ in range(attempts):
            if (await client.get("/readyz")).status == 200:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("a service never became ready")
