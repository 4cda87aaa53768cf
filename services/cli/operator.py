"""Who runs an operator command, and why: `--actor NAME` (or BALLOTLINE_ACTOR) and
`--reason TEXT` (API.md "Operators and the public audit log"). The audit log records both.

The actor is required in production (BALLOTLINE_ENV is not `development`): a public log
that says "root" or "unknown" tells observers nothing. In development it defaults to
the login name of whoever runs the command.
"""
from __future__ import annotations

import argparse
import getpass
import os

from services.common.elections_db import Change

from .errors import OperatorError

MAX_LENGTH = 500


def add_actor(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--actor", metavar="NAME", help="who runs this command, for the audit log "
                        "(default: BALLOTLINE_ACTOR; required in production)")


def add_reason(parser: argparse.ArgumentParser, *, required: bool) -> None:
    add_actor(parser)
    parser.add_argument("--reason", metavar="TEXT", required=required,
                        help="why, for the public audit log" + (" (required)" if required else ""))


def change_of(args: argparse.Namespace, *, reason_required: bool = False) -> Change:
    """The actor and reason of this command, checked; refuses (exit 1) what the log cannot take."""
    actor = _clean(getattr(args, "actor", None) or os.environ.get("BALLOTLINE_ACTOR"), "--actor")
    if actor is None:
        if os.environ.get("BALLOTLINE_ENV", "production") != "development":
            raise OperatorError(
                "error: --actor NAME (or BALLOTLINE_ACTOR) is required in production: "
                "the public audit log records who made every change; nothing was changed"
            )
        actor = _login_name()
    reason = _clean(getattr(args, "reason", None), "--reason")
    if reason_required and reason is None:
        raise OperatorError("error: --reason TEXT must not be empty: it is published in the audit log; nothing was changed")
    return Change(actor=actor, reason=reason)


def _clean(value: str | None, option: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > MAX_LENGTH or any(ord(c) < 32 for c in value):
        raise OperatorError(f"error: {option} must be one line of at most {MAX_LENGTH} characters; nothing was changed")
    return value


def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        return "unknown"
