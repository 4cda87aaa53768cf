"""RFC 9457 problem+json errors.

    Problem                      a client-facing error: status, stable `code`, title, detail
     ├── BadRequest   (400)      malformed body, bad header
     ├── Unauthorized (401)
     ├── Forbidden    (403)
     ├── NotFound     (404)
     ├── Conflict     (409)
     ├── Unprocessable(422)
     ├── TooManyRequests (429)   always with Retry-After
     └── Unavailable  (503)      always with Retry-After

Services subclass these (or raise them with their own `code`); one middleware turns
them into responses. Anything else is a bug: logged once, answered with a generic 500.
"""
from __future__ import annotations

from http import HTTPStatus

import msgspec
from aiohttp import web

PROBLEM_TYPE_BASE = "https://ballotline.org/problems/"
_encoder = msgspec.json.Encoder()


class Problem(Exception):
    status: int = 500
    code: str = "internal_error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        retry_after: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or "")
        if code is not None:
            self.code = code
        self.detail = detail
        self.retry_after = retry_after
        self.headers = dict(headers or {})

    @property
    def title(self) -> str:
        return HTTPStatus(self.status).phrase


class BadRequest(Problem):
    status, code = 400, "bad_request"


class Unauthorized(Problem):
    status, code = 401, "unauthorized"


class Forbidden(Problem):
    status, code = 403, "forbidden"


class NotFound(Problem):
    status, code = 404, "not_found"


class Conflict(Problem):
    status, code = 409, "conflict"


class Unprocessable(Problem):
    status, code = 422, "unprocessable"


class TooManyRequests(Problem):
    status, code = 429, "rate_limited"

    def __init__(self, detail: str | None = None, *, retry_after: int = 1, **kw) -> None:
        super().__init__(detail, retry_after=max(1, int(retry_after)), **kw)


class Unavailable(Problem):
    status, code = 503, "unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int = 1, **kw) -> None:
        super().__init__(detail, retry_after=max(1, int(retry_after)), **kw)


def problem_body(status: int, code: str, detail: str | None = None, title: str | None = None) -> bytes:
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    return _encoder.encode(body)


def problem_response(
    status: int,
    code: str,
    detail: str | None = None,
    *,
    retry_after: int | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    out = dict(headers or {})
    if retry_after is not None:
        out["Retry-After"] = str(retry_after)
    return web.Response(
        status=status,
        body=problem_body(status, code, detail),
        content_type="application/problem+json",
        headers=out,
    )


def response_for(problem: Problem) -> web.Response:
    return problem_response(
        problem.status, problem.code, problem.detail, retry_after=problem.retry_after, headers=problem.headers
    )
