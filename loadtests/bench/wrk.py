"""Running wrk (/usr/bin/wrk): a plain GET load with its text report parsed, or a Lua
driver that prints one `WRKJSON {...}` line (see vote_lua)."""
from __future__ import annotations

import asyncio
import json
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from .procfs import cpu_seconds

WRK = shutil.which("wrk") or ("/usr/bin/wrk" if Path("/usr/bin/wrk").exists() else None)


def get_load(url: str, duration: int, connections: int, headers: dict[str, str] | None = None) -> dict:
    """GET `url` for `duration` seconds over `connections` keep-alive connections; without
    wrk, an aiohttp client in this process does it (slower, and costs this process)."""
    if shutil.which("wrk") is None:
        return asyncio.run(_aiohttp_load(url, duration, connections, headers or {}))
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "seconds": duration, "p99": p99.group(1) if p99 else None, "non_2xx_3xx": int(errors.group(1)) if errors else 0}


async def _aiohttp_load(url: str, duration: int, connections: int, headers: dict[str, str]) -> dict:
    import aiohttp

    done, deadline = 0, time.monotonic() + duration
    async with aiohttp.ClientSession(headers=headers) as session:

        async def one():
            nonlocal done
            while time.monotonic() < deadline:
                async with session.get(url) as r:
                    await r.read()
                done += 1

        await asyncio.gather(*(one() for _ in range(connections)))
    return {"rps": done / duration, "seconds": duration, "p99": None, "non_2xx_3xx": 0, "client": "aiohttp"}


async def run_script(base: str, script: Path, connections: int, threads: int, max_seconds: float) -> dict:
    """Run wrk with a Lua driver without blocking this event loop (it may serve what the
    server under test needs, e.g. a JWKS). wrk's main thread sleeps for the whole -d
    duration even when every thread has stopped, so once every thread has marked itself
    exhausted (the file `<script without .lua>.exhausted.<thread>`) it gets a SIGINT,
    which ends the sleep; the rate uses the threads' own clock (first request to
    exhaustion). Returns the WRKJSON figures plus wrk's own `cpu_seconds`."""
    marks = [Path(f"{script.with_suffix('')}.exhausted.{t}") for t in range(threads)]
    command = [WRK, "-t", str(threads), "-c", str(connections), "-d", f"{int(max_seconds)}s", "--timeout", "10s",
               "-s", str(script), base]
    process = await asyncio.create_subprocess_exec(*command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wrk_cpu = None
    try:
        deadline = time.monotonic() + max_seconds + 5
        while process.returncode is None and time.monotonic() < deadline:
            if all(m.exists() for m in marks):
                wrk_cpu = cpu_seconds(process.pid)
                process.send_signal(signal.SIGINT)
                break
            await asyncio.sleep(0.02)
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    for line in stdout.decode().splitlines():
        if line.startswith("WRKJSON "):
            out = json.loads(line[len("WRKJSON "):])
            out["cpu_seconds"] = wrk_cpu
            return out
    raise RuntimeError(f"wrk failed ({process.returncode}): {stdout.decode()[-2000:]} {stderr.decode()[-2000:]}")
