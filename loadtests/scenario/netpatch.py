"""Two small patches to geventhttpclient's connection pool, applied by the locustfile.

1. Liveness check. geventhttpclient (2.6.1, the latest release at the time of writing)
   checks a pooled keep-alive socket with `select.select([sock], [], [], 0)`. select()
   cannot take a file descriptor >= 1024 (FD_SETSIZE): it raises ValueError, which the
   pool takes for a dead socket, so a process holding more than ~1,000 sockets silently
   opens a new connection for every request (no failure is reported: only CPU,
   TIME_WAITs and slow connects). We ask the kernel with the real, unpatched poll(),
   which has no such limit; a readable idle socket (FIN or stray bytes) is still dead.

2. Source addresses. The kernel allows ~28,000 connections per (source address,
   destination address, destination port), and connect() gets expensive long before
   that (~14,000). The services listen on 127.0.0.1 only, so instead of more destination
   addresses we spread the *source* addresses over 127.0.0.1..127.0.0.N (all of
   127.0.0.0/8 is loopback on Linux), round-robin per new connection.
   IP_BIND_ADDRESS_NO_PORT defers the port choice to connect(), so the port is unique per
   4-tuple rather than per source address.
"""
from __future__ import annotations

import itertools
import select
import socket

from gevent import monkey

IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)  # Linux value
_POLL_DEAD = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP | getattr(select, "POLLRDHUP", 0)
_original_poll = monkey.get_original("select", "poll")


def socket_is_alive(sock) -> bool:
    """True when an idle pooled socket can be reused: open and with nothing to read."""
    if sock is None:
        return False
    try:
        fd = sock.fileno()
        if fd < 0:
            return False
        poller = _original_poll()
        poller.register(fd, _POLL_DEAD)
        return not poller.poll(0)
    except (OSError, ValueError):
        return False


def loopback_sources(count: int) -> list[str]:
    if not 1 <= count <= 254:
        raise ValueError("between 1 and 254 loopback source addresses")
    return [f"127.0.0.{i}" for i in range(1, count + 1)]


def apply(source_addresses: list[str] | None = None) -> None:
    """Patch geventhttpclient's ConnectionPool in this process (idempotent)."""
    from geventhttpclient.connectionpool import ConnectionPool

    ConnectionPool._is_socket_alive = lambda self, sock: socket_is_alive(sock)
    if not source_addresses:
        return
    for address in source_addresses:  # loopback only: never load another address
        if not address.startswith("127."):
            raise ValueError(f"source address {address} is not loopback")
    sources = itertools.cycle(source_addresses)

    def _connect_socket(self, sock, address):
        if sock.family == socket.AF_INET and str(address[0]).startswith("127."):
            sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            sock.bind((next(sources), 0))
        sock.connect(address)
        return sock

    ConnectionPool._connect_socket = _connect_socket
