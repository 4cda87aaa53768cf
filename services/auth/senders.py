"""Where one-time codes go. Pluggable: `outbox` and `console` for development, tests and
load tests; `webhook` (an SMS gateway) for production.

A sender's `send` raises `DeliveryFailed` when it gives up; it never logs the code
(except the console sender, which exists to do exactly that and is refused in production).
"""
from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Protocol

import aiohttp
import redis.asyncio as aioredis

from .settings import WebhookSettings

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The code could not be handed to the gateway."""


@dataclass(frozen=True)
class CodeMessage:
    election_id: str
    voter_id: str
    who: str  # pseudonym, for logs
    phone: str
    code: str
    ttl: int

    def text(self) -> str:
        minutes = max(1, self.ttl // 60)
        return f"Your Ballotline login code is {self.code}. It expires in {minutes} min. Never share it."


class Sender(Protocol):
    name: str

    async def send(self, message: CodeMessage) -> None: ...


def outbox_key(election_id: str, voter_id: str) -> str:
    return f"auth:outbox:{len(election_id)}:{election_id}:{voter_id}"


class OutboxSender:
    """Keeps the last code per (election, voter) in Redis for the code's lifetime, for
    GET /v1/dev/outbox/...; Redis makes it work across worker processes."""

    name = "outbox"
    inline = True  # see delivery.Dispatcher

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    async def send(self, message: CodeMessage) -> None:
        await self._redis.set(outbox_key(message.election_id, message.voter_id), message.code, ex=message.ttl)

    async def last_code(self, election_id: str, voter_id: str) -> str | None:
        value = await self._redis.get(outbox_key(election_id, voter_id))
        return value.decode() if value is not None else None


class ConsoleSender:
    """Logs the code. Development only: production refuses to start with it."""

    name = "console"

    async def send(self, message: CodeMessage) -> None:
        log.warning("development login code for %s: %s", message.who, message.code)


class WebhookSender:
    """POSTs {"to", "message"} as JSON to the SMS gateway, retrying network errors,
    timeouts, 429 and 5xx with exponential backoff and jitter. 4xx is not retried."""

    name = "webhook"

    def __init__(self, session: aiohttp.ClientSession, settings: WebhookSettings) -> None:
        self._session = session
        self._settings = settings
        self._headers = {"Authorization": f"Bearer {settings.token.reveal()}"} if settings.token else {}

    async def send(self, message: CodeMessage) -> None:
        s = self._settings
        body = {"to": message.phone, "message": message.text()}
        timeout = aiohttp.ClientTimeout(total=s.timeout)
        for attempt in range(s.retries + 1):
            if attempt:
                await asyncio.sleep(s.backoff * 2 ** (attempt - 1) * random.uniform(0.8, 1.2))
            try:
                async with self._session.post(s.url, json=body, headers=self._headers, timeout=timeout) as response:
                    if response.status < 400:
                        return
                    if response.status != 429 and response.status < 500:
                        raise DeliveryFailed(f"gateway refused the message with {response.status}")
                    reason = f"gateway answered {response.status}"
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                reason = type(exc).__name__
            log.warning("sms gateway attempt %d for %s failed: %s", attempt + 1, message.who, reason)
        raise DeliveryFailed(f"gave up after {s.retries + 1} attempts")
