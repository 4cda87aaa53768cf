"""Run a service: one process, or a supervisor and N worker processes sharing the port
with SO_REUSEPORT so one host uses all its cores.

A service package exposes `services.<name>.app` with `SERVICE_NAME`, `DEFAULT_PORT`,
`load_settings(env) -> settings` (with a `.common: CommonSettings`) and
`create_app(settings) -> web.Application`, and may expose
`development_features(settings) -> list[str]` for the development-mode warning.

Exit status 2 (CONFIG_ERROR) means the configuration is wrong (a missing secret, a port
that cannot be bound): the supervisor stops rather than restarting workers in a loop.
"""
from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

from aiohttp import web

from .logs import configure_logging
from .metrics_listener import MetricsListener
from .settings import ConfigError, Env
from .web import HEALTH, JsonAccessLogger

log = logging.getLogger(__name__)
SERVICES = ("auth", "vote", "results")


def app_module(service: str):
    if service not in SERVICES:
        raise SystemExit(f"unknown service {service!r}; choose one of {', '.join(SERVICES)}")
    return importlib.import_module(f"services.{service}.app")


CONFIG_ERROR = 2  # exit status: the configuration is wrong, restarting cannot help


def load_or_exit(service: str, module):
    """The service's settings, or exit with CONFIG_ERROR and one clear log line."""
    try:
        return module.load_settings(Env())
    except ConfigError as exc:
        configure_logging(service)
        log.error("configuration error: %s", exc)
        raise SystemExit(CONFIG_ERROR) from None


def development_warning(module, settings) -> str | None:
    """What a service in development mode says on every start; None in production."""
    if settings.common.production:
        return None
    features = getattr(module, "development_features", lambda _settings: [])(settings)
    return (
        "development mode (BALLOTLINE_ENV=development): "
        + "; ".join([*features, "never use in production"])
    )


def _listen(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=4096, reuse_port=reuse_port)
    except OSError as exc:
        log.error("configuration error: cannot listen on %s:%s: %s", host, port, exc)
        raise SystemExit(CONFIG_ERROR) from None


def start_metrics(service: str, common, multiproc_dir: str | None = None) -> MetricsListener | None:
    if not common.metrics_port:
        log.info("%s: no metrics listener (METRICS_PORT=0)", service)
        return None
    try:
        return MetricsListener(common.metrics_host, common.metrics_port, multiproc_dir=multiproc_dir).start()
    except OSError as exc:
        log.error("configuration error: cannot listen for metrics on %s:%s: %s",
                  common.metrics_host, common.metrics_port, exc)
        raise SystemExit(CONFIG_ERROR) from None


def run_worker(service: str, *, supervised: bool) -> None:
    """One process serving the public port. Alone, it also runs the metrics listener;
    supervised (one of N sharing the port), the supervisor does."""
    module = app_module(service)
    settings = load_or_exit(service, module)
    common = settings.common
    configure_logging(service, common.log_level)
    warning = development_warning(module, settings)
    if warning:
        log.warning("%s", warning)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - Windows
        pass
    sock = _listen(common.host, common.port, reuse_port=supervised)
    metrics = None if supervised else start_metrics(service, common)
    app = module.create_app(settings)
    log.info("%s listening on %s:%s (pid %s)", service, common.host, common.port, os.getpid())
    try:
        asyncio.run(_run(app, sock, common))
    finally:
        if metrics:
            metrics.stop()


async def _run(app: web.Application, sock: socket.socket, common) -> None:
    """Serve until SIGTERM/SIGINT, then drain before closing (README "Configuration"):
    for SHUTDOWN_DRAIN seconds the port stays open, /readyz says 503 and every response
    carries `Connection: close`, so clients on kept-alive connections get an answer and
    reconnect (elsewhere, once the balancer has seen /readyz) instead of a reset; then
    the listener closes and in-flight requests get SHUTDOWN_TIMEOUT seconds to finish."""
    runner = web.AppRunner(app, access_log_class=JsonAccessLogger, shutdown_timeout=common.shutdown_timeout)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await web.SockSite(runner, sock, shutdown_timeout=common.shutdown_timeout).start()
        await stop.wait()
        app[HEALTH].shutting_down = True
        if common.shutdown_drain > 0:
            log.info("draining for %.1f s: answering with Connection: close", common.shutdown_drain)
            await asyncio.sleep(common.shutdown_drain)
    finally:
        await runner.cleanup()


def serve(service: str, workers: int) -> int:
    app_module(service)  # fail fast on a wrong name
    if workers <= 1:
        run_worker(service, supervised=False)
        return 0
    return _supervise(service, workers)


def _supervise(service: str, workers: int) -> int:
    # Settings are checked here first: a configuration error stops everything with
    # CONFIG_ERROR instead of N workers failing and being restarted forever.
    settings = load_or_exit(service, app_module(service))
    configure_logging(service, settings.common.log_level)
    env = dict(os.environ)
    if not env.get("PROMETHEUS_MULTIPROC_DIR"):
        env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=f"ballotline-{service}-metrics-")
    metrics = start_metrics(service, settings.common, env["PROMETHEUS_MULTIPROC_DIR"])
    command = [sys.executable, "-m", "services.cli.main", "serve-worker", service]
    children = {i: subprocess.Popen(command, env=env) for i in range(workers)}
    stopping = False
    status = 0

    def stop(signum, _frame):
        nonlocal stopping
        stopping = True
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("%s supervisor %s started %d workers", service, os.getpid(), workers)
    try:
        while True:
            time.sleep(0.2)
            for i, child in list(children.items()):
                code = child.poll()
                if code is None or stopping:
                    continue
                if code == CONFIG_ERROR:
                    log.error("%s worker %s exited with a configuration error; stopping", service, child.pid)
                    status = CONFIG_ERROR
                    stop(signal.SIGTERM, None)
                    break
                log.error("%s worker %s exited with %s; restarting it", service, child.pid, code)
                time.sleep(0.5)
                children[i] = subprocess.Popen(command, env=env)
            if stopping and all(c.poll() is not None for c in children.values()):
                return status
    finally:
        if metrics:
            metrics.stop()
