"""HTTP handlers: decode, call one use case, encode. Nothing else."""
from __future__ import annotations

from aiohttp import web

from services.common.client_address import client_address
from services.common.web import decode_body

from . import schemas
from .errors import NothingSent
from .keyring import KeyRing
from .otp import OtpLogin
from .senders import OutboxSender
from .settings import AuthSettings
from .signature import SignatureLogin

SETTINGS = web.AppKey("auth_settings", AuthSettings)
OTP = web.AppKey("otp_login", OtpLogin)
SIGNATURE = web.AppKey("signature_login", SignatureLogin)
KEYRING = web.AppKey("keyring", KeyRing)
OUTBOX = web.AppKey("outbox", OutboxSender)


def _json(payload: schemas.Output, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=schemas.encoder.encode(payload), status=status, content_type="application/json", headers=headers
    )


_NO_STORE = {"Cache-Control": "no-store"}


def _address(request: web.Request) -> str:
    proxies = request.app[SETTINGS].trusted_proxies
    return client_address(request.remote, request.headers.getall("X-Forwarded-For", []), proxies)


async def request_code(request: web.Request) -> web.Response:
    body: schemas.LoginRequest = await decode_body(request, schemas.login_request)
    challenge = await request.app[OTP].request(body.election_id, body.voter_id, _address(request))
    return _json(schemas.CodeChallengeOut(challenge.challenge_id, challenge.expires_in), 202, _NO_STORE)


async def verify_code(request: web.Request) -> web.Response:
    body: schemas.CodeVerification = await decode_body(request, schemas.code_verification)
    issued = await request.app[OTP].verify(body.challenge_id, body.code, _address(request))
    return _json(schemas.TokenOut(issued.access_token, issued.expires_in), headers=_NO_STORE)


async def request_nonce(request: web.Request) -> web.Response:
    body: schemas.LoginRequest = await decode_body(request, schemas.login_request)
    challenge = await request.app[SIGNATURE].request(body.election_id, body.voter_id, _address(request))
    out = schemas.NonceChallengeOut(challenge.challenge_id, challenge.nonce, challenge.expires_in)
    return _json(out, headers=_NO_STORE)


async def verify_signature(request: web.Request) -> web.Response:
    body: schemas.SignatureVerification = await decode_body(request, schemas.signature_verification)
    issued = await request.app[SIGNATURE].verify(body.challenge_id, body.signature, _address(request))
    return _json(schemas.TokenOut(issued.access_token, issued.expires_in), headers=_NO_STORE)


async def jwks(request: web.Request) -> web.Response:
    return web.Response(
        body=request.app[KEYRING].jwks,
        content_type="application/json",
        headers={"Cache-Control": "public, max-age=30"},
    )


async def dev_outbox(request: web.Request) -> web.Response:
    outbox = request.app.get(OUTBOX)
    code = await outbox.last_code(request.match_info["election_id"], request.match_info["voter_id"]) if outbox else None
    if code is None:
        raise NothingSent()
    return _json(schemas.OutboxOut(code), headers=_NO_STORE)


def setup_routes(app: web.Application, *, production: bool) -> None:
    app.router.add_post("/v1/auth/otp", request_code)
    app.router.add_post("/v1/auth/otp/verify", verify_code)
    app.router.add_post("/v1/auth/signature", request_nonce)
    app.router.add_post("/v1/auth/signature/verify", verify_signature)
    app.router.add_get("/.well-known/jwks.json", jwks)
    if not production:
        app.router.add_get("/v1/dev/outbox/{election_id}/{voter_id}", dev_outbox)
