"""The auth service's error vocabulary (problem+json `code` in brackets).

    Unauthorized (401)
     ├── InvalidCode       [invalid_code]       wrong one-time code; the challenge lives on
     ├── InvalidSignature  [invalid_signature]  signature does not verify; likewise
     └── ChallengeExpired  [challenge_expired]  unknown, expired or already used challenge
    TooManyRequests (429, Retry-After)
     ├── ChallengeLocked   [challenge_locked]   5 wrong answers burned the challenge
     └── RateLimited       [rate_limited]       a per-voter or per-address limit
    Forbidden (403)
     └── AuthMethodNotAllowed [auth_method_not_allowed] the election does not (or no
                           longer) accept this login method: public, so said openly
    NotFound (404)
     └── NothingSent       [not_found]          dev outbox: no code for that voter

Every one of them is answered identically for real and decoy challenges.
"""
from __future__ import annotations

from services.common.problems import Forbidden, NotFound, TooManyRequests, Unauthorized


class InvalidCode(Unauthorized):
    code = "invalid_code"

    def __init__(self) -> None:
        super().__init__("the code is wrong")


class InvalidSignature(Unauthorized):
    code = "invalid_signature"

    def __init__(self) -> None:
        super().__init__("the signature does not verify")


class ChallengeExpired(Unauthorized):
    code = "challenge_expired"

    def __init__(self) -> None:
        super().__init__("the challenge is unknown, expired or already used; request a new one")


class ChallengeLocked(TooManyRequests):
    code = "challenge_locked"

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many wrong answers; this challenge is burned, request a new one", retry_after=retry_after)


class RateLimited(TooManyRequests):
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many requests; retry later", retry_after=retry_after)


class NothingSent(NotFound):
    code = "not_found"

    def __init__(self) -> None:
        super().__init__("no code was sent to this voter recently")


class AuthMethodNotAllowed(Forbidden):
    code = "auth_method_not_allowed"

    def __init__(self, method: str) -> None:
        super().__init__(f"this election does not accept {method} login; its definition lists the methods it accepts")
