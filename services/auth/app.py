"""Wiring of the auth service: settings, storage, the election catalog, keys, the code
sender and the use cases, each living and dying with the application."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from services.common.catalog import CATALOG, catalog_context
from services.common.openapi import serve_openapi
from services.common.storage import PG, REDIS, pg_context, redis_context
from services.common.web import base_app

from .challenges import ChallengeStore
from .delivery import Dispatcher
from .handlers import KEYRING, OTP, OUTBOX, SETTINGS, SIGNATURE, setup_routes
from .keyring import KeyRing
from .keys import ServiceKeys, resolve_secret, resolve_signing_key
from .login import LoginFlow
from .openapi import openapi_document
from .otp import OtpLogin
from .ratelimit import RateLimiter
from .senders import ConsoleSender, OutboxSender, Sender, WebhookSender
from .settings import AuthSettings, load_settings  # noqa: F401 - load_settings is part of the serve contract
from .signature import SignatureLogin
from .tokens import SigningKey, TokenIssuer
from .voters import VoterRoll

SERVICE_NAME = "auth"
DEFAULT_PORT = 8001
SEND_GRACE = 5.0  # seconds granted to codes in flight at shutdown

log = logging.getLogger(__name__)


def development_features(settings: AuthSettings) -> list[str]:
    """What development mode turns on, for the warning `ballotline serve` logs at start."""
    features = ["dev outbox endpoint GET /v1/dev/outbox/... on"]
    if settings.sender != "webhook":
        features.append(f"login codes go to the {settings.sender}, not to phones")
    if settings.secret_key is None:
        features.append("AUTH_SECRET_KEY generated")
    if settings.signing_key is None:
        features.append("token signing key generated")
    return features


def keyring_context(settings: AuthSettings):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        key = SigningKey.of(await resolve_signing_key(settings.signing_key, app[REDIS]))
        ring = KeyRing(app[PG], key)
        await ring.start()
        app[KEYRING] = ring
        log.info("signing tokens with key %s", key.kid)
        try:
            yield
        finally:
            await ring.stop()

    return ctx


def login_context(settings: AuthSettings):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        redis = app[REDIS]
        keys = ServiceKeys.derive(await resolve_secret(settings.secret_key, redis))
        session = None
        sender: Sender
        if settings.sender == "webhook":
            assert settings.webhook is not None
            session = aiohttp.ClientSession()
            sender = WebhookSender(session, settings.webhook)
        elif settings.sender == "console":
            sender = ConsoleSender()
        else:
            sender = app[OUTBOX] = OutboxSender(redis)
        dispatcher = Dispatcher(sender)
        flow = LoginFlow(
            catalog=app[CATALOG],
            roll=VoterRoll(app[PG]),
            store=ChallengeStore(redis, ttl=settings.otp_ttl, max_attempts=settings.max_attempts),
            limiter=RateLimiter(redis),
            rates=settings.rates,
            issuer=TokenIssuer(app[KEYRING].key, issuer=settings.issuer, ttl=settings.token_ttl),
            keys=keys,
        )
        app[OTP] = OtpLogin(flow, dispatcher)
        app[SIGNATURE] = SignatureLogin(flow)
        log.info("auth ready: codes via %s, tokens valid %d s", sender.name, settings.token_ttl)
        try:
            yield
        finally:
            await dispatcher.drain(SEND_GRACE)
            if session is not None:
                await session.close()

    return ctx


def create_app(settings: AuthSettings) -> web.Application:
    app = base_app(SERVICE_NAME)
    app[SETTINGS] = settings
    common = settings.common
    app.cleanup_ctx.extend(
        [
            pg_context(common.database_url, role=common.database_role),
            redis_context(common.redis_url),
            catalog_context(),
            keyring_context(settings),
            login_context(settings),
        ]
    )
    setup_routes(app, production=common.production)
    serve_openapi(app, openapi_document(production=common.production, port=common.port))
    return app
