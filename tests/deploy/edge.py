"""Debian's nginx with deploy/nginx/ballotline.conf, in front of services on loopback.

The deploy file is used as written; only what differs on a test machine is replaced
(listen address, cache, log and static folders) and each replacement must match exactly
once, so a drift in the deploy file breaks the test instead of testing something else.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "nginx"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"deploy/nginx/ballotline.conf should contain {old!r} exactly once"
    return text.replace(old, new)


def write_config(folder: Path, port: int, upstreams: dict[str, int]) -> Path:
    """nginx.conf, upstreams.conf and ballotline.conf for a test edge in `folder`."""
    for sub in ("cache", "html", "temp"):
        (folder / sub).mkdir()
    (folder / "html" / "index.html").write_text("<!doctype html><title>Ballotline</title>\n")
    site = (DEPLOY / "ballotline.conf").read_text()
    site = _replace_once(site, "listen 8080;", f"listen 127.0.0.1:{port};")
    site = _replace_once(site, "/var/cache/nginx/ballotline", str(folder / "cache"))
    site = _replace_once(site, "/var/log/nginx/access.log", str(folder / "access.log"))
    site = _replace_once(site, "root /usr/share/nginx/html;", f"root {folder / 'html'};")
    (folder / "ballotline.conf").write_text(site)
    (folder / "upstreams.conf").write_text(
        "".join(f"upstream {name} {{ server 127.0.0.1:{p}; keepalive 8; }}\n" for name, p in upstreams.items())
    )
    temp = folder / "temp"
    # As root the workers would drop to www-data, which cannot enter pytest's 0700 folders.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        f"  client_body_temp_path {temp}/body;\n  proxy_temp_path {temp}/proxy;\n"
        f"  fastcgi_temp_path {temp}/fastcgi;\n  uwsgi_temp_path {temp}/uwsgi;\n  scgi_temp_path {temp}/scgi;\n"
        # The order of /etc/nginx/conf.d/*.conf in the image: ballotline.conf first.
        "  include ballotline.conf;\n  include upstreams.conf;\n"
        "}\n"
    )
    return folder / "nginx.conf"


def check_config(binary: str, config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [binary, "-t", "-p", str(config.parent), "-c", str(config)], capture_output=True, text=True, timeout=30
    )


def start(binary: str, config: Path, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [binary, "-p", str(config.parent), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"nginx exited: {process.stderr.read().decode()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("nginx did not listen within 10 s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
