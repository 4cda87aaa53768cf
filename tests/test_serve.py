"""`ballotline serve SERVICE --workers N`: N processes share one port (SO_REUSEPORT), the
supervisor alone serves /metrics on the internal port (adding up every worker's counts),
SIGTERM stops them all cleanly, and a configuration error stops everything with exit 2."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from tests.processes import free_port, get
from tests.tally_keys import ENV as TALLY_ENV

pytestmark = pytest.mark.slow


def _assert_no_public_metrics(url: str) -> None:
    status, body = get(url + "/metrics")
    assert status == 404 and json.loads(body)["code"] == "not_found"


def _listening(process: psutil.Process, port: int) -> bool:
    return any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in process.net_connections("tcp"))


def _established(process: psutil.Process, port: int) -> bool:
    return any(c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port for c in process.net_connections("tcp"))


def _wait_ready(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the supervisor exited while starting"
        try:
            if get(url + "/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("never ready")


def test_two_workers_share_the_port_report_metrics_together_and_stop_on_sigterm(database_url, redis_url, tmp_path):
    port, metrics_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PORT": str(port),
        "METRICS_PORT": str(metrics_port),
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
        _assert_no_public_metrics(url)
        assert _listening(psutil.Process(supervisor.pid), metrics_port), "the supervisor serves the metrics"
        assert not any(_listening(w, metrics_port) for w in workers), "workers do not fight for the port"
        metrics = get(f"http://127.0.0.1:{metrics_port}/metrics")[1]
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


def test_one_process_warns_it_is_in_development_and_serves_metrics_only_internally(database_url, redis_url):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "PORT": str(port),
           "BALLOTLINE_ENV": "development", "AUTH_SECRET_KEY": "s" * 32}
    env.pop("METRICS_PORT", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen([sys.executable, "-m", "services.cli.main", "serve", "auth"], env=env,
                              stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, server)
        _assert_no_public_metrics(url)
        status, metrics = get(f"http://127.0.0.1:{port + 1000}/metrics")  # the default METRICS_PORT
        assert status == 200 and 'route="/readyz"' in metrics
        assert get(f"http://127.0.0.1:{port + 1000}/healthz")[0] == 404
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    warnings = [json.loads(line) for line in stderr.splitlines() if "development mode" in line]
    assert len(warnings) == 1 and warnings[0]["level"] == "warning"
    assert "dev outbox endpoint" in warnings[0]["msg"] and "never use in production" in warnings[0]["msg"]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_without_ballotline_env_serve_is_production_and_exits_2_naming_the_missing_secret(workers):
    env = {k: v for k, v in os.environ.items() if k not in ("BALLOTLINE_ENV", "VOTE_SECRET_KEY")}
    done = subprocess.run(
        [sys.executable, "-m", "services.cli.main", "serve", "vote", "--workers", workers],
        env={**env, "DATABASE_URL": "postgresql://nowhere/x", "REDIS_URL": "redis://nowhere"},
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert "configuration error: VOTE_SECRET_KEY" in done.stderr


def test_a_worker_failing_with_a_configuration_error_stops_the_supervisor_with_2(database_url, redis_url):
    with socket.socket() as taken:  # another program holds the port, without SO_REUSEPORT
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "PORT": str(port),
               "METRICS_PORT": "0", "BALLOTLINE_ENV": "development", **TALLY_ENV}
        done = subprocess.run([sys.executable, "-m", "services.cli.main", "serve", "results", "--workers", "2"],
                              env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "cannot listen on 127.0.0.1:%d" % port in done.stderr
    assert "restarting" not in done.stderr


def test_after_sigterm_kept_alive_connections_get_answers_with_connection_close_not_resets(database_url, redis_url):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "PORT": str(port), "METRICS_PORT": "0",
           "BALLOTLINE_ENV": "development", "AUTH_SECRET_KEY": "s" * 32, "SHUTDOWN_DRAIN": "1.5"}
    server = subprocess.Popen([sys.executable, "-m", "services.cli.main", "serve", "auth"], env=env,
                              stderr=subprocess.DEVNULL)
    try:
        _wait_ready(f"http://127.0.0.1:{port}", server)
        kept = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        kept.request("GET", "/healthz")
        first = kept.getresponse()
        first.read()
        assert first.status == 200 and first.getheader("Connection") != "close"
        server.send_signal(signal.SIGTERM)
        time.sleep(0.1)
        kept.request("GET", "/healthz")  # on the kept-alive connection, just after SIGTERM
        answer = kept.getresponse()
        answer.read()
        assert answer.status == 200 and answer.getheader("Connection") == "close"
        assert get(f"http://127.0.0.1:{port}/readyz")[0] == 503  # a new connection, still draining
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
        assert server.wait(20) == 0
