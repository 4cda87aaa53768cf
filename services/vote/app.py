"""Wiring of the vote service (API.md "Vote service"); run it with `ballotline serve vote`.

Cleanup contexts start in this order and stop in the reverse one, so on SIGTERM (after
aiohttp stopped accepting and answered what was in flight) the batcher drains before the
Postgres pool closes.
"""
from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator

from aiohttp import web

from services.common.catalog import CATALOG, catalog_context
from services.common.openapi import serve_openapi
from services.common.sealed_box import Sealer
from services.common.settings import Env
from services.common.storage import PG, pg_context
from services.common.web import HEALTH, base_app

from . import config
from .batcher import Batcher
from .casting import VoteService
from .handlers import PROXIES, SIGNER, VOTE, setup_routes
from .housekeeping import housekeeping_context
from .idempotency import InFlight
from .jwks import KeySet
from .openapi import openapi_document
from .preparing import BallotPreparer
from .receipts import ReceiptSigner
from .sealing import Keyring
from .store import BallotStore
from .tokens import TokenVerifier

log = logging.getLogger(__name__)
SERVICE_NAME = "vote"
DEFAULT_PORT = 8002
SETTINGS = web.AppKey("vote_settings", config.VoteSettings)
STORE = web.AppKey("ballot_store", BallotStore)


def load_settings(env: Env) -> config.VoteSettings:
    return config.load_settings(env, default_port=DEFAULT_PORT)


def development_features(settings: config.VoteSettings) -> list[str]:
    """What development mode allows, for the warning `ballotline serve` logs at start."""
    features = []
    if settings.secret_key is None:
        features.append("ephemeral VOTE_SECRET_KEY (replays and receipts do not survive a restart)")
    if settings.signing_key is None:
        features.append("ephemeral receipt signing key")
    return features


def _keyring(settings: config.VoteSettings) -> Keyring:
    if settings.secret_key is None:
        log.warning("no VOTE_SECRET_KEY: using an ephemeral secret; replays and receipts do not survive a restart")
        return Keyring(os.urandom(32))
    return Keyring(settings.secret_key.reveal().encode())


async def _vote_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    keyring = _keyring(settings)
    signer = ReceiptSigner.configured(settings.signing_key)
    keys = KeySet(settings.jwks_url, refresh=settings.jwks_refresh_seconds, min_refetch=settings.jwks_min_refetch_seconds)
    await keys.start()
    app[HEALTH].checks["token_keys"] = keys.check_ready
    store = BallotStore(app[PG], keyring, Sealer(settings.tally_public_key))
    batcher = Batcher(
        store.write,
        max_batch=settings.batch_max,
        wait_ms=settings.batch_wait_ms,
        queue_max=settings.queue_max,
        flushers=settings.batch_flushers,
    )
    app[STORE] = store
    app[SIGNER] = signer
    app[VOTE] = VoteService(
        catalog=app[CATALOG],
        verifier=TokenVerifier(keys, issuer=settings.token_issuer),
        keyring=keyring,
        preparer=BallotPreparer(keyring, signer),
        store=store,
        batcher=batcher,
        inflight=InFlight(),
    )
    try:
        yield
    finally:
        await batcher.close()
        await keys.stop()


def create_app(settings: config.VoteSettings) -> web.Application:
    app = base_app(SERVICE_NAME)
    app[SETTINGS] = settings
    app[PROXIES] = settings.trusted_proxies
    # A 201 promises the COMMIT reached durable storage, whatever the server's default.
    app.cleanup_ctx.append(
        pg_context(
            settings.common.database_url,
            max_size=settings.pg_pool_size,
            name="ballotline-vote",
            server_settings={"synchronous_commit": "on"},
            role=settings.common.database_role,
        )
    )
    app.cleanup_ctx.append(catalog_context(settings.catalog_poll_seconds))
    app.cleanup_ctx.append(_vote_context)
    app.cleanup_ctx.append(housekeeping_context(STORE, settings.cleanup_interval_seconds))
    setup_routes(app)
    serve_openapi(app, openapi_document(port=settings.common.port))
    return app
