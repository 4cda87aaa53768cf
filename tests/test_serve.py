"""`ballotline serve SERVICE --workers N`: N processes share one port (SO_REUSEPORT),
/metrics adds up every worker's counts, and SIGTERM stops them all cleanly."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest

from tests.tally_keys import ENV as TALLY_ENV

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    # A new connection per request, so the kernel spreads them over the workers.
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read().decode()


def _listening(process: psutil.Process, port: int) -> bool:
    return any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in process.net_connections("tcp"))


def _established(process: psutil.Process, port: int) -> bool:
    return any(c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port for c in process.net_connections("tcp"))


def _wait_ready(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the supervisor exited while starting"
        try:
            if _get(url + "/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("never ready")


def test_two_workers_share_the_port_report_metrics_together_and_stop_on_sigterm(database_url, redis_url, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        **TALLY_ENV,
    }
    supervisor = subprocess.Popen([sys.executable, "-m", "services.cli.main", "serve", "results", "--workers", "2"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, supervisor)
        workers = psutil.Process(supervisor.pid).children()
        assert len(workers) == 2
        deadline = time.monotonic() + 20
        while not all(_listening(w, port) for w in workers):  # a worker may still be starting
            assert time.monotonic() < deadline, "both workers should listen on the port"
            time.sleep(0.1)
        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=5) for _ in range(20)]
        for c in connections:
            c.request("GET", "/healthz")
            assert c.getresponse().status == 200
        assert all(_established(w, port) for w in workers), "connections should land on both workers"
        for c in connections:
            c.close()
        metrics = _get(url + "/metrics")[1]
        line = next(
            m for m in metrics.splitlines()
            if m.startswith("ballotline_http_requests_total{") and 'route="/healthz"' in m and 'status="200"' in m
        )
        assert float(line.rsplit(" ", 1)[1]) == len(connections), line  # the sum over both workers
    finally:
        supervisor.send_signal(signal.SIGTERM)
        code = supervisor.wait(timeout=30)
    assert code == 0
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)
