"""The rules of a voter roll row (API.md "Voter roll CSV"). Pure: no I/O.

`RollValidator.check` turns the fields of one row into a `Voter` ready for COPY, or
records why it cannot; it remembers the voters seen so far to refuse a repeated one.
"""
from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

HEADER = ("voter_id", "precinct_id", "phone", "public_key")
VOTER_ID = re.compile(r"[\x21-\x2b\x2d-\x7e]{1,128}")  # visible ASCII but the comma
PHONE = re.compile(r"\+[1-9][0-9]{6,14}")  # E.164: at most 15 digits
PUBLIC_KEY = re.compile(r"[A-Za-z0-9_-]{43}=?")  # base64url of 32 bytes, padding optional

# (voter_id, precinct_id, phone, public_key): the columns the import copies.
Voter = tuple[str, str, str | None, bytes | None]


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


def parse_public_key(text: str) -> bytes:
    """The raw 32-byte key in base64url `text`; ValueError if it is not one."""
    if not PUBLIC_KEY.fullmatch(text):
        raise ValueError("must be the base64url encoding of a raw 32-byte Ed25519 public key (43 characters)")
    raw = base64.urlsafe_b64decode(text.rstrip("=") + "=")
    if base64.urlsafe_b64encode(raw).rstrip(b"=") != text.rstrip("=").encode():
        raise ValueError("is not a canonical base64url encoding (its last character has stray bits)")
    return raw


def encode_public_key(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class RollValidator:
    """Checks rows one by one; keeps the first `keep` errors and counts them all."""

    def __init__(self, precinct_ids: Iterable[str], *, keep: int = 50) -> None:
        self.precincts = frozenset(precinct_ids)
        self.per_precinct: dict[str, int] = dict.fromkeys(self.precincts, 0)
        self.first_line: dict[str, int] = {}
        self.errors: list[RowError] = []
        self.error_count = 0
        self.accepted = 0
        self._keep = keep

    def _refuse(self, line: int, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < self._keep:
            self.errors.append(RowError(line, reason))

    def check(self, line: int, fields: Sequence[str]) -> Voter | None:
        if len(fields) != len(HEADER):
            self._refuse(line, f"expected {len(HEADER)} columns ({','.join(HEADER)}), found {len(fields)}")
            return None
        voter_id, precinct_id, phone, key = fields
        errors_before = self.error_count
        if not VOTER_ID.fullmatch(voter_id):
            self._refuse(line, f"voter_id {voter_id[:140]!r}: must be 1 to 128 visible ASCII characters, no spaces or commas")
        elif (first := self.first_line.setdefault(voter_id, line)) != line:
            self._refuse(line, f"voter_id {voter_id!r}: already on line {first}")
        if precinct_id not in self.precincts:
            self._refuse(line, f"precinct_id {precinct_id[:80]!r}: no such precinct in this election")
        if phone and not PHONE.fullmatch(phone):
            self._refuse(line, f"phone {phone[:40]!r}: must be E.164, e.g. +15550001234")
        raw_key = None
        if key:
            try:
                raw_key = parse_public_key(key)
            except (ValueError, binascii.Error) as exc:
                self._refuse(line, f"public_key: {exc}")
        if self.error_count != errors_before:
            return None
        self.per_precinct[precinct_id] += 1
        self.accepted += 1
        return voter_id, precinct_id, phone or None, raw_key
