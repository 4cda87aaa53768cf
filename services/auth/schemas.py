"""Wire types (API.md "Auth service"). Client input forbids unknown fields; lengths are
bounded so nobody can make us hash or store megabytes."""
from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
ChallengeId = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class Input(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    pass


class LoginRequest(Input):
    election_id: Id
    voter_id: Id


class CodeVerification(Input):
    challenge_id: ChallengeId
    code: Annotated[str, msgspec.Meta(max_length=32)]


class SignatureVerification(Input):
    challenge_id: ChallengeId
    signature: Annotated[str, msgspec.Meta(max_length=256)]


class Output(msgspec.Struct, frozen=True):
    pass


class CodeChallengeOut(Output):
    challenge_id: str
    expires_in: int


class NonceChallengeOut(Output):
    challenge_id: str
    nonce: str
    expires_in: int


class TokenOut(Output):
    access_token: str
    expires_in: int
    token_type: Literal["Bearer"] = "Bearer"


class OutboxOut(Output):
    code: str


login_request = msgspec.json.Decoder(LoginRequest)
code_verification = msgspec.json.Decoder(CodeVerification)
signature_verification = msgspec.json.Decoder(SignatureVerification)
encoder = msgspec.json.Encoder()
