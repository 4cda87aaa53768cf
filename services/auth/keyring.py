"""Publishing token signing keys, so rotation needs no operator step.

At start the process upserts its public JWK into `signing_keys`, then refreshes
`last_used_at` every `heartbeat` seconds while it signs. The JWKS served at
/.well-known/jwks.json lists every key used within the longest allowed token lifetime
(900 s, not this process's TTL: a predecessor may have run with a longer one) plus a
margin covering the heartbeat period and clock skew. So after a restart with a new key,
the old key stays published until every token it signed has expired, then drops out.
The list is read from Postgres every `refresh` seconds and served from memory, so a
key a new replica starts signing with shows in the other replicas' JWKS within that
time: verifiers should refetch the JWKS (rate-limited) when they meet an unknown kid.
"""
from __future__ import annotations

import asyncio
import json
import logging

import asyncpg
import msgspec

from services.common.tasks import cancel_all

from .tokens import MAX_LIFETIME, SigningKey

log = logging.getLogger(__name__)

HEARTBEAT = 30.0
MARGIN = HEARTBEAT + 60.0
PRUNE_AFTER = "7 days"


class KeyRing:
    def __init__(
        self, pool: asyncpg.Pool, key: SigningKey, *, heartbeat: float = HEARTBEAT, refresh: float = 2.0
    ) -> None:
        self._pool = pool
        self._key = key
        self._heartbeat = heartbeat
        self._refresh = refresh
        self._window = MAX_LIFETIME + MARGIN
        self._jwks = msgspec.json.encode({"keys": [key.public_jwk]})
        self._tasks: list[asyncio.Task] = []

    @property
    def key(self) -> SigningKey:
        return self._key

    @property
    def jwks(self) -> bytes:
        """The JWKS document, encoded once per refresh."""
        return self._jwks

    async def publish(self) -> None:
        await self.touch()
        await self._pool.execute(f"DELETE FROM signing_keys WHERE last_used_at < now() - interval '{PRUNE_AFTER}'")

    async def touch(self) -> None:
        """Upsert rather than update: the row comes back if someone deleted it."""
        await self._pool.execute(
            "INSERT INTO signing_keys (kid, public_jwk) VALUES ($1, $2::jsonb)"
            " ON CONFLICT (kid) DO UPDATE SET last_used_at = now()",
            self._key.kid,
            json.dumps(self._key.public_jwk),
        )

    async def refresh(self) -> None:
        rows = await self._pool.fetch(
            "SELECT public_jwk::text AS jwk FROM signing_keys"
            " WHERE last_used_at > now() - make_interval(secs => $1) ORDER BY last_used_at DESC",
            self._window,
        )
        keys = [json.loads(r["jwk"]) for r in rows]
        if not any(k.get("kid") == self._key.kid for k in keys):
            keys.insert(0, self._key.public_jwk)  # our own key is always served
        self._jwks = msgspec.json.encode({"keys": keys})

    async def start(self) -> None:
        await self.publish()
        await self.refresh()
        self._tasks = [
            asyncio.create_task(self._every(self._heartbeat, self.touch), name="signing-key-heartbeat"),
            asyncio.create_task(self._every(self._refresh, self.refresh), name="jwks-refresh"),
        ]

    async def stop(self) -> None:
        await cancel_all(self._tasks)

    async def _every(self, period: float, action) -> None:
        while True:
            await asyncio.sleep(period)
            try:
                await action()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep signing and serving the last known keys
                log.warning("%s failed; retrying in %.0f s", action.__name__, period, exc_info=True)
