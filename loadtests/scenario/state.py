"""What one load process shares between its users: the scenario options, the ledger,
the roll slices, the election rules (max_choices per contest) and the digest book."""
from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.invariants import DigestBook
from loadtests.ledger import LedgerWriter, write_jsonl

from . import counters
from .identities import RollSlice, has_key, slice_for, voter_id
from .options import Scenario


@dataclass
class Shared:
    scenario: Scenario
    worker_index: int = 0
    ledger: LedgerWriter | None = None
    digests: DigestBook = field(default_factory=DigestBook)
    rules: dict[str, dict[str, int]] = field(default_factory=dict)  # election → contest → max_choices
    definitions: dict[str, dict] = field(default_factory=dict)
    slices: dict[str, RollSlice] = field(default_factory=dict)

    @property
    def run_dir(self) -> Path:
        return Path(self.scenario.run_dir)

    def writer(self) -> LedgerWriter:
        if self.ledger is None:  # opened lazily: after Locust forked its worker processes
            self.ledger = LedgerWriter(self.run_dir)
        return self.ledger

    def violation(self, where: str, problems: list[str]) -> None:
        counters.count("snapshot violations", 1)
        write_jsonl(self.run_dir / f"violations-{os.getpid()}.jsonl", {"where": where, "problems": problems})

    def next_voter(self) -> tuple[str, str, bool] | None:
        """(election_id, voter_id, signs) for a fresh voter, or None when the slice is used up."""
        s = self.scenario
        election = s.election_id
        roll = s.voters
        if s.revote_election_id and random.random() < s.revote_election_share:
            election, roll = s.revote_election_id, s.revote_voters
        signs = random.random() < s.signature_share
        if election not in self.slices:
            self.slices[election] = slice_for(roll, self.worker_index, s.load_workers)
        number = self.slices[election].take(keyed=signs)
        if number is None:
            number = self.slices[election].take(keyed=not signs)
            if number is None:
                return None
        return election, voter_id(s.voter_prefix, s.voter_digits, number), has_key(number)


SHARED: Shared | None = None


def shared() -> Shared:
    if SHARED is None:
        raise RuntimeError("the scenario is not initialised (loadtests/locustfile.py does it)")
    return SHARED
