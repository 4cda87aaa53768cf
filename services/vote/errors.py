"""The vote service's error vocabulary (API.md "Vote service"), each a problem+json code.

    Problem (services.common.problems)
     ├── IdempotencyKeyInvalid  400 idempotency_key_invalid
     ├── MalformedBody          400 malformed_body (raised by common.web.decode_body)
     ├── InvalidToken           401 invalid_token
     ├── WrongElection          403 wrong_election
     ├── AuthMethodNotAllowed   403 auth_method_not_allowed (the token's login method
     │                          was removed by `ballotline election policy`)
     ├── ElectionNotFound       404 election_not_found
     ├── AlreadyVoted           409 already_voted
     ├── ElectionNotOpen        409 election_not_open
     ├── RequestInProgress      409 request_in_progress + Retry-After
     ├── InvalidBallot          422 invalid_ballot
     ├── IdempotencyKeyReused   422 idempotency_key_reused
     ├── Overloaded             503 overloaded + Retry-After (nothing written)
     ├── KeysUnavailable / StorageUnavailable  503 + Retry-After
     └── ParticipationUnreadable  500 participation_unreadable (this voter's record
                                  cannot be opened with the server's key; nothing written)
"""
from __future__ import annotations

from services.common.problems import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Problem,
    Unauthorized,
    Unavailable,
    Unprocessable,
)


class IdempotencyKeyInvalid(BadRequest):
    code = "idempotency_key_invalid"


class InvalidToken(Unauthorized):
    code = "invalid_token"

    def __init__(self, detail: str | None = None, **kw) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}, **kw)


class WrongElection(Forbidden):
    code = "wrong_election"


class AuthMethodNotAllowed(Forbidden):
    code = "auth_method_not_allowed"


class ElectionNotFound(NotFound):
    code = "election_not_found"


class AlreadyVoted(Conflict):
    code = "already_voted"


class ElectionNotOpen(Conflict):
    code = "election_not_open"


class RequestInProgress(Conflict):
    code = "request_in_progress"

    def __init__(self, detail: str | None = None, *, retry_after: int = 1) -> None:
        super().__init__(detail, retry_after=retry_after)


class InvalidBallot(Unprocessable):
    code = "invalid_ballot"


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency_key_reused"


class Overloaded(Unavailable):
    code = "overloaded"


class KeysUnavailable(Unavailable):
    code = "token_keys_unavailable"


class StorageUnavailable(Unavailable):
    code = "storage_unavailable"


class ParticipationUnreadable(Problem):
    status = 500
    code = "participation_unreadable"
