"""The client's address: the TCP peer, or — when the peer is a trusted reverse proxy —
the right-most address in X-Forwarded-For that is not itself a trusted proxy. Auth
rate-limits by it; vote keeps it, sealed, for annulment by rule.

Walking from the right matters: everything left of the first untrusted hop was written
by the client and can be forged; only hops appended by our own proxies are believed.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from .settings import ConfigError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_address(text: str) -> IPAddress | None:
    """An IP from one X-Forwarded-For entry: `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:80`."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def trusted_proxies(variable: str, items: list[str]) -> tuple[IPNetwork, ...]:
    """The networks of a `*_TRUSTED_PROXIES` setting (IPs or CIDRs)."""
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"{variable}: {item!r} is not an IP address or CIDR") from None
    return tuple(networks)


def _trusted(address: IPAddress, proxies: Sequence[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def client_address(peer: str | None, forwarded_for: Iterable[str], proxies: Sequence[IPNetwork]) -> str:
    """The address to rate-limit and log. `forwarded_for` is every X-Forwarded-For header
    value in order. A malformed entry stops the walk: the hop that wrote it is the client."""
    current = parse_address(peer or "")
    if current is None:
        return peer or "unknown"
    if not _trusted(current, proxies):
        return str(current)
    hops = [item for value in forwarded_for for item in value.split(",")]
    for raw in reversed(hops):
        hop = parse_address(raw)
        if hop is None:
            break
        current = hop
        if not _trusted(hop, proxies):
            break
    return str(current)


def limit_key(address: str) -> str:
    """The rate-limit identity of an address: IPv6 clients are grouped by /64, the block
    one subscriber usually holds, so rotating within it does not reset the limit."""
    parsed = parse_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed) if parsed else address
