"""Sliding-window rate limits in Redis, one sorted set of hit times per (limit, subject).

The check and the record happen in one Lua script, so concurrent requests from several
workers cannot both take the last slot. Redis's own clock (TIME) is used so that
workers with skewed clocks agree. A refused request is not recorded: a client that
keeps hammering is refused until its oldest counted hit leaves the window.
"""
from __future__ import annotations

import hashlib
import math
import secrets

import redis.asyncio as aioredis

from . import metrics
from .errors import RateLimited
from .settings import Limit

_SLIDING_WINDOW = """
local key, limit, window_ms, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window_ms)
if redis.call('ZCARD', key) >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + window_ms - now
end
redis.call('ZADD', key, now, member)
redis.call('PEXPIRE', key, window_ms)
return 0
"""


class RateLimiter:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._script = redis.register_script(_SLIDING_WINDOW)

    async def hit(self, limit: Limit, subject: str) -> None:
        """Count one request of `subject` against `limit`, or raise RateLimited."""
        if limit.limit <= 0:
            return
        digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
        key = f"auth:rl:{limit.name}:{digest}"
        wait_ms = int(await self._script(keys=[key], args=[limit.limit, limit.window * 1000, secrets.token_hex(8)]))
        if wait_ms > 0:
            metrics.RATE_LIMITED.labels(limit.name).inc()
            raise RateLimited(retry_after=max(1, math.ceil(wait_ms / 1000)))
