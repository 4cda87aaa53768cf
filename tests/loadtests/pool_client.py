"""Run as a script (gevent monkey-patches the whole process, so never import it from the
test process): N requests through Locust's FastHttpSession while this process holds more
than 1,024 file descriptors, with or without loadtests.scenario.netpatch."""
from __future__ import annotations

import json
import os
import sys

from locust.contrib.fasthttp import FastHttpSession  # noqa: E402 - patches gevent first
from locust.env import Environment

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from loadtests.scenario import netpatch  # noqa: E402


def main() -> None:
    url, patched = sys.argv[1], sys.argv[2] == "1"
    sessions, requests, sources = (int(a) for a in sys.argv[3:6])
    ballast = [open(os.devnull) for _ in range(1100)]  # push new sockets past fd 1024
    if patched:
        netpatch.apply(netpatch.loopback_sources(sources) if sources else None)
    environment = Environment()
    statuses = []
    for _ in range(sessions):  # each session has its own pool, so its own connection
        session = FastHttpSession(url, environment.events.request, user=None)
        statuses += [session.get("/").status_code for _ in range(requests)]
    print(json.dumps({"statuses": statuses, "max_fd": max(f.fileno() for f in ballast)}))


if __name__ == "__main__":
    main()
