"""The auth service's public keys (its GET /.well-known/jwks.json), held in memory.

Fetched at start-up and refreshed in the background; start-up never fails because auth is
not up yet: the fetch is retried with back-off and /readyz answers 503 until keys are
loaded. An unknown `kid` triggers a refetch at most once per `min_refetch` seconds, so
forged kids cannot turn every request into a call to auth.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.common.tasks import cancel_all

log = logging.getLogger(__name__)


class KeySet:
    def __init__(self, url: str, *, refresh: float = 300.0, min_refetch: float = 5.0) -> None:
        self.url = url
        self._refresh = refresh
        self._min_refetch = min_refetch
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._last_fetch = float("-inf")
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task | None = None

    @property
    def loaded(self) -> bool:
        return bool(self._keys)

    async def key_for(self, kid: str) -> Ed25519PublicKey | None:
        key = self._keys.get(kid)
        if key is None and time.monotonic() - self._last_fetch >= self._min_refetch:
            with contextlib.suppress(Exception):
                await self.fetch()
            key = self._keys.get(kid)
        return key

    async def fetch(self) -> None:
        async with self._lock:
            self._last_fetch = time.monotonic()
            assert self._session is not None
            timeout = aiohttp.ClientTimeout(total=3)
            async with self._session.get(self.url, timeout=timeout) as response:
                response.raise_for_status()
                document = await response.json(content_type=None)
            keys = {}
            for jwk in document.get("keys", []):
                if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and jwk.get("kid") and jwk.get("x"):
                    x = jwk["x"].encode()
                    keys[jwk["kid"]] = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + b"=" * (-len(x) % 4)))
            if keys:
                self._keys = keys
            log.info("loaded %d token key(s) from %s", len(keys), self.url)

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            try:
                await self.fetch()
                backoff = 0.2
                await asyncio.sleep(self._refresh)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - auth may not be up yet; keep trying
                log.warning("could not load token keys from %s (%s); retrying", self.url, type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._task = asyncio.create_task(self._run(), name="jwks-refresh")

    async def stop(self) -> None:
        if self._task:
            await cancel_all([self._task])
        if self._session:
            await self._session.close()

    async def check_ready(self) -> None:
        if not self._keys:
            raise RuntimeError("token keys not loaded yet")
