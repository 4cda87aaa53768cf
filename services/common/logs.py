"""JSON logs, one object a line, with the request id of the request being served.

Configured once at start-up by `configure_logging`. Modules log with
`logging.getLogger(__name__)` and %-style arguments. Voter identities never appear in
clear: use `pseudonym()`.
"""
from __future__ import annotations

import contextvars
import hashlib
import hmac
import logging
import sys
import time

import msgspec

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_encoder = msgspec.json.Encoder()
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return _encoder.encode(entry).decode("utf-8", "replace")


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def pseudonym(key: bytes, *parts: str) -> str:
    """A short, stable, keyed pseudonym for a voter identity, safe to log."""
    mac = hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256)
    return "v_" + mac.hexdigest()[:16]
