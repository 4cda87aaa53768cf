"""The Postgres group roles the services assume on every connection, created with their
grants by migration 0006_roles.sql (README "Database roles").

Each is set as the `role` parameter of the connection's startup packet, so it is the
session's default role from the first statement on, and the `RESET ROLE` that our pools
add to asyncpg's reset on release (storage.py) returns to it, never to the login user.
The login user must be a member of the role (Postgres refuses the connection otherwise). An empty DATABASE_ROLE means "the login user itself",
for operators who give each service a login user of its own.
"""
from __future__ import annotations

from .settings import Env

AUTH = "ballotline_auth"
VOTE = "ballotline_vote"
TALLY = "ballotline_tally"
RESULTS = "ballotline_results"
OPERATOR = "ballotline_operator"
ALL = (AUTH, VOTE, TALLY, RESULTS, OPERATOR)


def database_role(env: Env, default: str, variable: str = "DATABASE_ROLE") -> str | None:
    """The role named by `variable` (unset: `default`); None when it is set but empty."""
    return env.str(variable, default).strip() or None


def role_settings(role: str | None) -> dict[str, str]:
    """Connection parameters that make every session of a pool run as `role`."""
    return {"role": role} if role else {}
