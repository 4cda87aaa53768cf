"""The ledger: one JSON line per acknowledged receipt (and per ballot attempt given up
without an answer), appended by each load process to its own file and flushed per line,
so a killed worker keeps what it wrote. The audit reads every `ledger-*.jsonl` of a run.

Lines carry the voter id (the load test's own data, never the choice) and the
Idempotency-Key, so a receipt can be traced back to the request that produced it.
"""
from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Entry:
    kind: str  # "attempt" (about to send), "receipt" (a 201 was read), "unacked" (gave up: outcome unknown)
    election_id: str
    voter_id: str
    key: str
    receipt_id: str | None
    seq: int  # the voter's n-th ballot in this run (re-votes count up)
    at: float


class LedgerWriter:
    def __init__(self, directory: str | os.PathLike[str], name: str = "ledger") -> None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        self.path = Path(directory) / f"{name}-{os.getpid()}.jsonl"
        self._file = open(self.path, "a", encoding="utf-8", buffering=1)  # line-buffered
        self._lock = threading.Lock()

    def write(self, entry: Entry) -> None:
        line = json.dumps(entry.__dict__, separators=(",", ":"))
        with self._lock:
            self._file.write(line + "\n")

    def receipt(self, election_id: str, voter_id: str, key: str, receipt_id: str, seq: int) -> None:
        self.write(Entry("receipt", election_id, voter_id, key, receipt_id, seq, time.time()))

    def attempt(self, election_id: str, voter_id: str, key: str, seq: int) -> None:
        self.write(Entry("attempt", election_id, voter_id, key, None, seq, time.time()))

    def unacked(self, election_id: str, voter_id: str, key: str, seq: int) -> None:
        self.write(Entry("unacked", election_id, voter_id, key, None, seq, time.time()))

    def close(self) -> None:
        with self._lock:
            self._file.close()


def read_ledger(directory: str | os.PathLike[str], name: str = "ledger") -> Iterator[Entry]:
    for path in sorted(Path(directory).glob(f"{name}-*.jsonl")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:  # a worker killed mid-write leaves at most one torn last line
                    try:
                        yield Entry(**json.loads(line))
                    except (ValueError, TypeError):
                        continue


def write_jsonl(path: Path, record: dict) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, separators=(",", ":")) + "\n")


def read_jsonl(directory: str | os.PathLike[str], pattern: str) -> Iterator[dict]:
    for path in sorted(Path(directory).glob(pattern)):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError:
                        continue
