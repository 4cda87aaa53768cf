"""The installed `.venv/bin/ballotline` executable reaches the database named by DATABASE_URL."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import valid_yaml

BALLOTLINE = Path(sys.executable).with_name("ballotline")


def run(*args: str, database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run([str(BALLOTLINE), *args], env=env, capture_output=True, text=True, timeout=60)


def test_the_installed_command_creates_an_election_and_reports_mistakes_without_a_traceback(db, write):
    created = run("election", "create", str(write("city.yaml", valid_yaml())), database_url=db.url)
    assert created.returncode == 0, created.stderr
    assert "created election city-2026" in created.stdout
    assert db.val("SELECT count(*) FROM elections") == 1

    again = run("election", "create", str(write("city.yaml", valid_yaml())), database_url=db.url)
    assert again.returncode == 1 and "already exists" in again.stderr and "Traceback" not in again.stderr

    unknown = run("election", "open", "no-such", database_url=db.url)
    assert unknown.returncode == 2 and "no election 'no-such'" in unknown.stderr
