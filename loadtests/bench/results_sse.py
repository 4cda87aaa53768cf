"""SSE subscribers: many result streams held open at once, counting the snapshot events
each receives. Run as its own process so the server's figures exclude it:

    python -m loadtests.bench.results_sse PORT COUNT SECONDS

prints {"connected": n} once every stream is up, then the counts as one JSON line."""
from __future__ import annotations

import asyncio
import json
import sys

from .results_election import ELECTION


async def sse_clients(port: int, count: int, seconds: float) -> dict:
    """Hold `count` streams open for `seconds`, counting the snapshot events each gets."""
    request = f"GET /v1/elections/{ELECTION}/results/stream HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    events = [0] * count
    connected = 0
    stop = asyncio.Event()

    async def one(i: int) -> None:
        nonlocal connected
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return
        writer.write(request)
        connected += 1
        tail = b""
        try:
            while not stop.is_set():
                chunk = await reader.read(65536)
                if not chunk:
                    break
                data = tail + chunk
                events[i] += data.count(b"event: results")
                tail = data[-16:]
        finally:
            writer.close()

    tasks = []
    for start in range(0, count, 250):  # ramp up without overflowing the accept backlog
        tasks += [asyncio.create_task(one(i)) for i in range(start, min(count, start + 250))]
        await asyncio.sleep(0.05)
    for _ in range(100):  # until every connection is up (or 10 s)
        if connected >= count:
            break
        await asyncio.sleep(0.1)
    print(json.dumps({"connected": connected}), flush=True)
    await asyncio.sleep(seconds)
    stop.set()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    ordered = sorted(events)
    return {"connected": connected, "events_min": ordered[0], "events_median": ordered[len(ordered) // 2], "events_total": sum(events)}


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(sse_clients(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])))), flush=True)
