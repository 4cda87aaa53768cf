"""Helpers for the operator CLI tests: run `ballotline ...` in-process against the test
database, write definition and roll files, look at what landed in Postgres."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import pytest

from services.cli.main import main
from tests.conftest import _truncate_all

VALID_YAML = """\
election_id: city-2026
title: City council 2026
opens_at: OPENS
closes_at: CLOSES
revoting: false
auth_methods: [otp, signature]
contests:
  - contest_id: council
    title: City council
    max_choices: 1
    options:
      - {option_id: green, title: Green Party}
      - {option_id: blue, title: Blue Party}
  - contest_id: mayor
    title: Mayor
    options:
      - {option_id: ada, title: Ada}
      - {option_id: bob, title: Bob}
precincts:
  - {precinct_id: p001, name: School No. 1, channel: online}
  - {precinct_id: p002, name: Library, channel: online}
  - {precinct_id: p099, name: Village hall, channel: paper}
"""
HEADER = "voter_id,precinct_id,phone,public_key\n"
KEY = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"  # RFC 8032 test 1's public key


def valid_yaml(opens: datetime | None = None, hours: int = 14) -> str:
    """The API.md example: two contests, three precincts; opens tomorrow by default."""
    opens = opens or datetime.now(timezone.utc) + timedelta(days=1)
    closes = opens + timedelta(hours=hours)
    return VALID_YAML.replace("OPENS", opens.isoformat()).replace("CLOSES", closes.isoformat())


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    """The 1-based line holding the n-th occurrence of `fragment` in `text`."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    return found[occurrence - 1]


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def db(service_env):
    """Empty tables, and sync access to the database the CLI uses."""

    class Db:
        url = service_env["DATABASE_URL"]

        def run(self, fn):
            async def go():
                conn = await asyncpg.connect(self.url)
                try:
                    return await fn(conn)
                finally:
                    await conn.close()

            return asyncio.run(go())

        def fetch(self, sql: str, *args):
            return self.run(lambda c: c.fetch(sql, *args))

        def val(self, sql: str, *args):
            return self.run(lambda c: c.fetchval(sql, *args))

    d = Db()
    d.run(_truncate_all)
    return d


@pytest.fixture
def cli(db, capsys):
    def run(*args: str) -> Run:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def write(tmp_path):
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def created(cli, write):
    """`city-2026` created (opening tomorrow), roll empty."""
    result = cli("election", "create", str(write("city.yaml", valid_yaml())))
    assert result.code == 0, result.err
    return "city-2026"
