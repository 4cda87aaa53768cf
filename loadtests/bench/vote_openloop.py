"""The open-loop client of the half-rate phase: raw HTTP/1.1 over keep-alive sockets,
pre-serialised requests, each sent at its scheduled time (wrk has no open-loop mode)."""
from __future__ import annotations

import asyncio
import collections
import time


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
