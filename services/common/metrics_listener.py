"""The internal metrics listener: `GET /metrics` on its own address (METRICS_HOST and
METRICS_PORT; default 127.0.0.1 and the public port + 1000, 0 turns it off), never on the
public port, whose counters would otherwise tell anyone when real voters log in.

A small threaded HTTP server rather than a second aiohttp site, so it runs the same way
beside a single worker's event loop and in the `serve --workers N` supervisor, which has
no event loop. Under the supervisor it is the one process that binds the port (N workers
never fight over it) and it reads every worker's files in PROMETHEUS_MULTIPROC_DIR.

A process without a public port (`ballotline tally run`) also answers its probes here:
given a `health` callable, `/healthz` and `/readyz` say whether its loops are running.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from .problems import problem_body

log = logging.getLogger(__name__)
PATH = "/metrics"


def render(multiproc_dir: str | None = None) -> bytes:
    """The Prometheus text of this process, or of every process writing to the
    multi-process directory (the argument, else PROMETHEUS_MULTIPROC_DIR)."""
    directory = multiproc_dir or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return generate_latest(registry)


Health = Callable[[], tuple[bool, str]]  # (healthy, why), called from the listener's thread


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    multiproc_dir: str | None = None
    health: Health | None = None


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
        path = self.path.split("?", 1)[0]
        if path == PATH:
            self._send(200, CONTENT_TYPE_LATEST, render(self.server.multiproc_dir))
        elif path in ("/healthz", "/readyz") and self.server.health is not None:
            healthy, why = self.server.health()
            body = b'{"status":"ok"}' if healthy else problem_body(503, "not_ready", why)
            self._send(200 if healthy else 503, "application/json" if healthy else "application/problem+json", body)
        else:
            self._send(404, "application/problem+json", problem_body(404, "not_found", "only GET /metrics is served here"))

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - scrapes are not access-logged
        pass


class MetricsListener:
    """`start()` binds (raising OSError when it cannot) and serves in a daemon thread."""

    def __init__(self, host: str, port: int, *, multiproc_dir: str | None = None, health: Health | None = None) -> None:
        self.host, self.port = host, port
        self._multiproc_dir = multiproc_dir
        self._health = health
        self._server: _Server | None = None

    def start(self) -> "MetricsListener":
        server_class = type("Server6", (_Server,), {"address_family": socket.AF_INET6}) if ":" in self.host else _Server
        self._server = server_class((self.host, self.port), _Handler)
        self._server.multiproc_dir = self._multiproc_dir
        self._server.health = self._health
        self.port = self._server.server_address[1]  # the real one when asked for port 0
        threading.Thread(target=self._server.serve_forever, name="metrics-listener", daemon=True).start()
        log.info("metrics on http://%s:%s%s", self.host, self.port, PATH)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
