"""Where benchmark results go (loadtests/results/*.json), and the machine they ran on."""
from __future__ import annotations

import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path

from . import ROOT

RESULTS_DIR = ROOT / "loadtests" / "results"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def write_results(name: str, result: dict) -> Path:
    """Write `result` to loadtests/results/<name> (indented JSON) and return the path."""
    path = RESULTS_DIR / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path
