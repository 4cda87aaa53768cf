"""What an operator sees when a command cannot do what was asked: plain lines on stderr
and an exit code, never a traceback for a mistake of theirs.

    OperatorError         a mistake or a refusal (bad file, frozen roll, ...)   exit 1
     ├─ NotFound          the named election does not exist                    exit 2
     └─ DatabaseUnusable  the database cannot be reached or is not migrated   exit 3
"""
from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg

from services.common import roles

from .context import database_url, operator_role


class OperatorError(Exception):
    exit_code = 1

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


class NotFound(OperatorError):
    exit_code = 2


class DatabaseUnusable(OperatorError):
    exit_code = 3


def election_not_found(election_id: str) -> NotFound:
    return NotFound(f"error: no election {election_id!r} (`ballotline election create FILE` creates one)")


@contextlib.asynccontextmanager
async def database() -> AsyncIterator[asyncpg.Connection]:
    """A connection as the operator role, its usual failures turned into operator errors."""
    try:
        conn = await asyncpg.connect(database_url(), server_settings=roles.role_settings(operator_role()))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DatabaseUnusable(f"error: cannot reach the database: {exc}", *_role_hint(exc)) from None
    try:
        yield conn
    except asyncpg.UndefinedTableError:
        raise DatabaseUnusable("error: the database has no Ballotline tables; run `ballotline db migrate`") from None
    except asyncpg.InsufficientPrivilegeError as exc:
        raise DatabaseUnusable(f"error: the database refused this command: {exc}", *_role_hint(exc)) from None
    finally:
        await conn.close()


def _role_hint(exc: BaseException) -> list[str]:
    if "role" not in str(exc) and not isinstance(exc, asyncpg.InsufficientPrivilegeError):
        return []
    return [
        f"hint: operator commands run as DATABASE_ROLE={operator_role() or ''}; the login user must be a member"
        " of it (`GRANT ballotline_operator TO ...`) and `ballotline db migrate` creates it"
    ]


Handler = Callable[..., Awaitable[int]]


def operator_command(handler: Handler) -> Handler:
    """Wrap an async command handler: an `OperatorError` becomes stderr lines + exit code."""

    @functools.wraps(handler)
    async def run(args: object) -> int:
        try:
            return await handler(args)
        except OperatorError as exc:
            for line in exc.lines:
                print(line, file=sys.stderr)
            return exc.exit_code

    return run
