"""Run a service: one process, or a supervisor and N worker processes sharing the port
with SO_REUSEPORT so one host uses all its cores.

A service package exposes `services.<name>.app` with `SERVICE_NAME`, `DEFAULT_PORT`,
`load_settings(env) -> settings` (with a `.common: CommonSettings`) and
`create_app(settings) -> web.Application`.
"""
from __future__ import annotations

import importlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time

from aiohttp import web

from .logs import configure_logging
from .settings import ConfigError, Env
from .web import JsonAccessLogger

log = logging.getLogger(__name__)
SERVICES = ("auth", "vote", "results")


def app_module(service: str):
    if service not in SERVICES:
        raise SystemExit(f"unknown service {service!r}; choose one of {', '.join(SERVICES)}")
    return importlib.import_module(f"services.{service}.app")


def run_worker(service: str, *, reuse_port: bool) -> None:
    module = app_module(service)
    try:
        settings = module.load_settings(Env())
    except ConfigError as exc:
        configure_logging(service)
        log.error("configuration error: %s", exc)
        raise SystemExit(2) from None
    common = settings.common
    configure_logging(service, common.log_level)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - Windows
        pass
    app = module.create_app(settings)
    log.info("%s listening on %s:%s (pid %s)", service, common.host, common.port, os.getpid())
    web.run_app(
        app,
        host=common.host,
        port=common.port,
        reuse_port=reuse_port,
        shutdown_timeout=common.shutdown_timeout,
        access_log_class=JsonAccessLogger,
        print=None,
        backlog=4096,
    )


def serve(service: str, workers: int) -> int:
    app_module(service)  # fail fast on a wrong name
    if workers <= 1:
        run_worker(service, reuse_port=False)
        return 0
    return _supervise(service, workers)


def _supervise(service: str, workers: int) -> int:
    configure_logging(service)
    env = dict(os.environ)
    if not env.get("PROMETHEUS_MULTIPROC_DIR"):
        env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=f"ballotline-{service}-metrics-")
    command = [sys.executable, "-m", "services.cli.main", "serve-worker", service]
    children = {i: subprocess.Popen(command, env=env) for i in range(workers)}
    stopping = False

    def stop(signum, _frame):
        nonlocal stopping
        stopping = True
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("%s supervisor %s started %d workers", service, os.getpid(), workers)
    while True:
        time.sleep(0.2)
        for i, child in list(children.items()):
            code = child.poll()
            if code is None:
                continue
            if stopping:
                continue
            log.error("%s worker %s exited with %s; restarting it", service, child.pid, code)
            time.sleep(0.5)
            children[i] = subprocess.Popen(command, env=env)
        if stopping and all(c.poll() is not None for c in children.values()):
            return 0
