"""The vote service's OpenAPI document (API.md "Vote service"); wire schemas come from
schemas.py, the error codes from errors.py's vocabulary."""
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

from .schemas import BallotRequest, CastResponse, MineResponse

_ELECTION = {"name": "election_id", "in": "path", "required": True, "schema": {"type": "string"}}
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "Names this request: a retry with the same key and body is answered once, byte for byte.",
    "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
}
_INVALID_TOKEN = problem(401, "Token missing, forged, expired, or for another audience.", "invalid_token", headers={
    "WWW-Authenticate": {"required": True, "schema": {"const": 'Bearer error="invalid_token"'}},
})
_WRONG_ELECTION = problem(403, "The token was issued for another election.", "wrong_election")
_CREATED_HEADERS = {
    "Location": {"required": True, "description": "The receipt's status, on the results service.",
                 "schema": {"type": "string", "pattern": "^/v1/elections/[^/]+/receipts/[^/]+$"}},
    "Idempotent-Replayed": {"description": "`true` on a replayed answer.", "schema": {"const": "true"}},
}

_CAST = operation(
    "castBallot",
    "Cast a ballot; the 201 is sent only after the ballot is durably committed.",
    {
        "201": json_response("The signed receipt (never the choice); a replay repeats the first answer byte for byte.",
                             ref("CastResponse"), headers=_CREATED_HEADERS),
        **problem(400, "Idempotency-Key missing or malformed, or a malformed body; nothing written.",
                  "idempotency_key_invalid", "malformed_body"),
        **_INVALID_TOKEN,
        **problem(403, "The token was issued for another election, or by a login method the election no longer"
                  " accepts.", "wrong_election", "auth_method_not_allowed"),
        **problem(404, "No such election.", "election_not_found"),
        **problem(409, "Already voted, election not open, or the same key still in flight.",
                  "already_voted", "election_not_open", "request_in_progress",
                  retry_after="With `request_in_progress`: seconds to wait."),
        **BODY_TOO_LARGE,
        **problem(422, "Selections break a ballot rule (`detail` names it), or the key was used for another body.",
                  "invalid_ballot", "idempotency_key_reused"),
        **problem(500, "A re-vote whose earlier record this server cannot open (its VOTE_SECRET_KEY changed);"
                  " nothing written. Or an unexpected error, logged.", "participation_unreadable"),
        **problem(503, "Saturated, or token keys or storage unavailable; nothing written, a retry with the key is safe.",
                  "overloaded", "token_keys_unavailable", "storage_unavailable", retry_after=True),
    },
    parameters=[_ELECTION, _IDEMPOTENCY_KEY],
    requestBody={"required": True, "content": {"application/json": {"schema": ref("BallotRequest")}}},
    security=[{"bearer": []}],
)
_MINE = operation(
    "myBallots",
    "Whether, and when, a ballot was cast in the token holder's name.",
    {
        "200": json_response("Participation.", ref("MineResponse"),
                             headers={"Cache-Control": {"required": True, "schema": {"const": "no-store"}}}),
        **_INVALID_TOKEN,
        **_WRONG_ELECTION,
        **problem(503, "Token keys not loaded yet.", "token_keys_unavailable", retry_after=True),
    },
    parameters=[_ELECTION],
    security=[{"bearer": []}],
)
_JWKS = operation("receiptKeys", "Public keys that verify receipt signatures.",
                  {"200": json_response("JWKS.", JWK_SET_SCHEMA)})

BEARER = {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                     "description": "An EdDSA access token from the auth service (aud `ballotline-vote`)."}}


def openapi_document(*, port: int) -> Json:
    return document(
        "Ballotline vote service",
        "Casts ballots exactly once per Idempotency-Key and answers with signed receipts.",
        {
            "/v1/elections/{election_id}/ballots": {"post": _CAST},
            "/v1/elections/{election_id}/ballots/mine": {"get": _MINE},
            "/.well-known/jwks.json": {"get": _JWKS},
        },
        wire_schemas(inputs=(BallotRequest,), outputs=(CastResponse, MineResponse)),
        port=port,
        security=BEARER,
    )
