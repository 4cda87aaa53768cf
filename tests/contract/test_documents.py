"""Each service's OpenAPI document is valid OpenAPI 3.1, and describes exactly the routes
its aiohttp application registers: none missing, none invented."""
from __future__ import annotations

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from services.auth import app as auth
from services.common.openapi import OPENAPI_PATH
from services.common.settings import Env
from services.results import app as results
from services.vote import app as vote
from tests.tally_keys import ENV as TALLY_ENV

# Built, never started: no connection is made.
_COMMON = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "REDIS_URL": "redis://127.0.0.1:1/0"}
_PEM = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
_ENVS = {
    "auth": (auth, {"BALLOTLINE_ENV": "development", "AUTH_SECRET_KEY": "a" * 40}),
    "auth in production": (auth, {
        "BALLOTLINE_ENV": "production",
        "AUTH_SECRET_KEY": "a" * 40,
        "AUTH_SIGNING_KEY": _PEM,
        "AUTH_SMS_SENDER": "webhook",
        "AUTH_SMS_WEBHOOK_URL": "https://sms.invalid/send",
    }),
    "vote": (vote, {"BALLOTLINE_ENV": "development", "VOTE_JWKS_URL": "http://127.0.0.1:1/.well-known/jwks.json", **TALLY_ENV}),
    "results": (results, {"BALLOTLINE_ENV": "development", **TALLY_ENV}),
}


@pytest.fixture(params=list(_ENVS))
def app(request) -> web.Application:
    module, env = _ENVS[request.param]
    return module.create_app(module.load_settings(Env({**_COMMON, **env})))


def registered_routes(app: web.Application) -> set[tuple[str, str]]:
    # aiohttp answers HEAD for every GET by itself; the document lists the GETs.
    return {(r.method, r.resource.canonical) for r in app.router.routes() if r.method != "HEAD"}


def documented_routes(document: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


async def served(app: web.Application) -> dict:
    """What GET /openapi.json answers, asked of the registered handler itself."""
    route = next(r for r in app.router.routes() if r.method == "GET" and r.resource.canonical == OPENAPI_PATH)
    response = await route.handler(make_mocked_request("GET", OPENAPI_PATH, app=app))
    assert response.status == 200 and response.content_type == "application/json"
    return msgspec.json.decode(response.body)


async def test_every_service_document_is_valid_openapi_3_1(app):
    # Imported here, not at collection: it imports urllib3, and urllib3 imported before
    # Locust's gevent monkey-patching breaks the load-test modules' collection (ssl recursion).
    from openapi_spec_validator import OpenAPIV31SpecValidator

    document = await served(app)
    assert document["openapi"].startswith("3.1.")
    OpenAPIV31SpecValidator(document).validate()


async def test_every_registered_route_is_documented_and_every_documented_route_is_registered(app):
    document = await served(app)
    registered, documented = registered_routes(app), documented_routes(document)
    assert registered - documented == set(), "routes the document does not describe"
    assert documented - registered == set(), "documented routes the service does not serve"
