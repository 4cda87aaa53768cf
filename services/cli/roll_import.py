"""Replacing an election's voter roll: validate every row, COPY the valid ones, all in one
transaction. Any bad row and nothing is imported.

The rows stream into a single COPY (asyncpg sends them in ~512 KiB chunks while Postgres
consumes them), so memory stays flat and Postgres works while Python validates. The roll
is frozen once the election has opened: voters may already hold tokens and ballots.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone

import asyncpg

from services.common.elections_db import Change, record_event

from .election_phases import when
from .errors import OperatorError, election_not_found
from .roll_rows import RollValidator, RowError

# `handle` is made here, not by the column's default: the same 32 random hex characters,
# but Postgres' gen_random_uuid() per row cost about 40% of the COPY's time.
COLUMNS = ["election_id", "voter_id", "precinct_id", "phone", "public_key", "handle"]
MAX_REPORTED = 50


class RollRejected(OperatorError):
    """Rows broke the roll's rules; nothing was imported."""

    def __init__(self, source: str, errors: list[RowError], total: int) -> None:
        lines = [f"{source}:{e.line}: {e.reason}" for e in errors]
        if total > len(errors):
            lines.append(f"... and {total - len(errors)} more")
        lines.append(f"{total} error(s) in {source}; nothing was imported")
        super().__init__(*lines)
        self.errors, self.total = errors, total


class RollFrozen(OperatorError):
    """The election has opened; its roll can no longer change."""


async def import_roll(
    conn: asyncpg.Connection,
    election_id: str,
    rows: Iterable[tuple[int, Sequence[str]]],
    *,
    source: str = "roll",
    now: datetime | None = None,
    change: Change,
) -> int:
    """Replace the roll of `election_id` with `rows` ((line number, 4 fields) each, as in
    the CSV); return the number of voters. Raises NotFound, RollFrozen or RollRejected."""
    now = now or datetime.now(timezone.utc)
    async with conn.transaction():
        # The row lock orders this import against `election open` running at the same time.
        opens_at = await conn.fetchval(
            "SELECT opens_at FROM elections WHERE election_id = $1 FOR UPDATE", election_id
        )
        if opens_at is None:
            raise election_not_found(election_id)
        if opens_at <= now:
            raise RollFrozen(
                f"error: election {election_id!r} opened at {when(opens_at)}; "
                "its roll is frozen while voting can happen"
            )
        precincts = [r[0] for r in await conn.fetch("SELECT precinct_id FROM precincts WHERE election_id = $1", election_id)]
        validator = RollValidator(precincts, keep=MAX_REPORTED)
        await conn.execute("DELETE FROM voters WHERE election_id = $1", election_id)
        await conn.copy_records_to_table("voters", records=_valid(validator, election_id, rows), columns=COLUMNS)
        if validator.error_count:
            raise RollRejected(source, validator.errors, validator.error_count)
        await conn.executemany(
            "UPDATE precincts SET eligible = $3 WHERE election_id = $1 AND precinct_id = $2",
            [(election_id, p, n) for p, n in validator.per_precinct.items()],
        )
        detail = {"voters": validator.accepted, "per_precinct": dict(sorted(validator.per_precinct.items()))}
        await record_event(conn, election_id, "roll.import", change, detail)
    return validator.accepted


def _valid(validator: RollValidator, election_id: str, rows: Iterable[tuple[int, Sequence[str]]]) -> Iterator[tuple]:
    for line, fields in rows:
        voter = validator.check(line, fields)
        # After the first error, keep checking (to report every bad row) but stop copying.
        if voter is not None and not validator.error_count:
            yield (election_id, *voter, os.urandom(16).hex())
