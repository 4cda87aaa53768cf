"""Reading a voter roll CSV as a stream of (line number, fields), never all at once.

The header is checked when the file is opened, before anything touches the database.
Each line is decoded on its own so that a byte that is not UTF-8 is reported on its line.
"""
from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import OperatorError
from .roll_rows import HEADER

Rows = Iterator[tuple[int, list[str]]]


class RollFileError(OperatorError):
    """The file cannot be read as a roll at all (missing, not UTF-8, bad header)."""


@contextlib.contextmanager
def open_roll_csv(path: str | Path) -> Iterator[Rows]:
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise RollFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise RollFileError(f"{path}: cannot read the file: {exc.strerror}") from None
    with f:
        reader = csv.reader(_decoded_lines(f, str(path)), strict=True)
        header = _next_row(reader, str(path))
        if header is None:
            raise RollFileError(f"{path}:1: the file is empty; expected the header {','.join(HEADER)}")
        if tuple(header) != HEADER:
            raise RollFileError(f"{path}:1: the header must be exactly {','.join(HEADER)} (found {','.join(header)[:200]})")
        yield _rows(reader, str(path))


def _decoded_lines(f: BinaryIO, source: str) -> Iterator[str]:
    for number, raw in enumerate(f, 1):
        try:
            # A BOM (spreadsheets write one) is not part of the header.
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise RollFileError(f"{source}:{number}: not UTF-8 ({exc.reason} at column {exc.start + 1}); save the file as UTF-8") from None


def _next_row(reader: Iterator[list[str]], source: str) -> list[str] | None:
    try:
        return next(reader, None)
    except csv.Error as exc:
        raise RollFileError(f"{source}:{reader.line_num}: malformed CSV: {exc}") from None  # type: ignore[attr-defined]


def _rows(reader: Iterator[list[str]], source: str) -> Rows:
    while (fields := _next_row(reader, source)) is not None:
        if fields:  # blank lines carry no voter
            yield reader.line_num, fields  # type: ignore[attr-defined]
