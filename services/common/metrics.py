"""Prometheus metrics shared by every service, labelled by route template (never the raw
path, which would hold voter and election ids).

They are read on the internal metrics listener (metrics_listener.py), not the public
port. With several worker processes (`ballotline serve --workers N`) the serve command sets
PROMETHEUS_MULTIPROC_DIR and the supervisor's listener aggregates every worker's values.
"""
from __future__ import annotations

import time

from aiohttp import web
from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter(
    "ballotline_http_requests_total",
    "HTTP requests answered, by route template and status.",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "ballotline_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


UNMATCHED = "<unmatched>"  # the route label of requests no route matched (or never parsed)
_children: dict[tuple[str, str, str, int], tuple] = {}


def observe_request(service: str, method: str, route: str, status: int, started: float) -> None:
    """Count one answered request. The labelled children are looked up once per label set
    and cached: `labels()` takes a lock and builds a tuple, on every request otherwise."""
    key = (service, method, route, status)
    children = _children.get(key)
    if children is None:
        children = _children[key] = (
            HTTP_REQUESTS.labels(service, method, route, str(status)),
            HTTP_LATENCY.labels(service, method, route),
        )
    children[0].inc()
    children[1].observe(time.perf_counter() - started)


def route_template(request: web.Request) -> str:
    route = request.match_info.route
    resource = getattr(route, "resource", None)
    if resource is None:
        return UNMATCHED
    return resource.canonical
