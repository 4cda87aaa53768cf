"""The auth service's OpenAPI document (API.md "Auth service"); wire schemas come from
schemas.py."""
from __future__ import annotations

from services.common.openapi import (
    BODY_TOO_LARGE,
    JWK_SET_SCHEMA,
    Json,
    document,
    json_response,
    operation,
    problem,
    ref,
    wire_schemas,
)

from . import schemas

_MALFORMED = problem(400, "Malformed JSON, wrong types or unknown fields.", "malformed_body")
_RATE_LIMITED = problem(429, "A per-voter or per-address limit.", "rate_limited", retry_after=True)
_LOCKED = problem(429, "Five wrong answers burned the challenge, or a rate limit.", "challenge_locked", "rate_limited",
                  retry_after=True)
_METHOD = problem(403, "The election does not (or no longer) accept this login method.", "auth_method_not_allowed")
_NO_STORE = {"Cache-Control": {"required": True, "schema": {"const": "no-store"}}}


def _body(name: str) -> Json:
    return {"required": True, "content": {"application/json": {"schema": ref(name)}}}


def _post(operation_id: str, summary: str, body: str, responses: Json) -> Json:
    return {"post": operation(operation_id, summary, {**responses, **_MALFORMED, **BODY_TOO_LARGE},
                              requestBody=_body(body))}


def _token(description: str) -> Json:
    return json_response(description, ref("TokenOut"), headers=_NO_STORE)


def _path(name: str, description: str) -> Json:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}


def paths(*, production: bool) -> Json:
    out = {
        "/v1/auth/otp": _post("requestCode", "Send a one-time code to the voter's registered channel.", "LoginRequest", {
            "202": json_response("A challenge; the same answer for an unknown voter (no enumeration).",
                                 ref("CodeChallengeOut"), headers=_NO_STORE),
            **_RATE_LIMITED,
            **_METHOD,
        }),
        "/v1/auth/otp/verify": _post("verifyCode", "Trade the one-time code for an access token.", "CodeVerification", {
            "200": _token("An EdDSA access token for the vote service."),
            **problem(401, "Wrong code, or a challenge unknown, expired or used.", "invalid_code", "challenge_expired"),
            **_LOCKED,
            **_METHOD,
        }),
        "/v1/auth/signature": _post("requestNonce", "A nonce to sign with the voter's Ed25519 key.", "LoginRequest", {
            "200": json_response("A challenge; the same answer for an unknown voter.", ref("NonceChallengeOut"),
                                 headers=_NO_STORE),
            **_RATE_LIMITED,
            **_METHOD,
        }),
        "/v1/auth/signature/verify": _post(
            "verifySignature",
            "Trade a base64url Ed25519 signature of `ballotline-login:{election_id}:{voter_id}:{nonce}` for a token.",
            "SignatureVerification",
            {
                "200": _token("An EdDSA access token for the vote service."),
                **problem(401, "Bad signature, or a challenge unknown, expired or used.", "invalid_signature",
                          "challenge_expired"),
                **_LOCKED,
                **_METHOD,
            },
        ),
        "/.well-known/jwks.json": {"get": operation("jwks", "Public keys that verify access tokens.", {
            "200": json_response("JWKS.", JWK_SET_SCHEMA),
        })},
    }
    if not production:
        out["/v1/dev/outbox/{election_id}/{voter_id}"] = {"get": operation(
            "devOutbox", "Outside production only: the last code sent to a voter.",
            {"200": json_response("The code.", ref("OutboxOut")),
             **problem(404, "No code was sent to this voter recently.", "not_found")},
            parameters=[_path("election_id", "Election id."), _path("voter_id", "Voter id on the roll.")],
        )}
    return out


def openapi_document(*, production: bool, port: int) -> Json:
    wire = schemas.LoginRequest, schemas.CodeVerification, schemas.SignatureVerification
    out = schemas.CodeChallengeOut, schemas.NonceChallengeOut, schemas.TokenOut, schemas.OutboxOut
    return document(
        "Ballotline auth service",
        "One-time-code and Ed25519-signature logins that issue EdDSA access tokens for the vote service.",
        paths(production=production),
        wire_schemas(inputs=wire, outputs=out),
        port=port,
    )
