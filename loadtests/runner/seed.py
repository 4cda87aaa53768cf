"""The elections of a load run, created through the operator CLI exactly as an operator
would: `election create` (a JSON definition), `roll import` (a CSV written here) and
`election open`. The main election (no re-voting) carries the big roll; a second one
allows re-voting. Both have real ballot shapes (API.md): a mayor on every ballot, two
single-member districts with "against all" (p01–p09, p10–p20) and a 10-seat party list
with a 5% threshold, so every run counts districts apart and allocates seats. Voter ids are PREFIX + 7 digits; every 10th voter has an Ed25519 key
derived like the demo's (loadtests/scenario/identities.py)."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from loadtests.scenario.identities import has_key, public_key_b64, voter_id

PRECINCTS = 20
PAPER = {"p19", "p20"}
ONLINE = [f"p{i:02d}" for i in range(1, PRECINCTS + 1) if f"p{i:02d}" not in PAPER]
DISTRICTS = {
    "district-a": [f"p{i:02d}" for i in range(1, 10)],
    "district-b": [f"p{i:02d}" for i in range(10, PRECINCTS + 1)],
}
AGAINST_ALL = {"option_id": "against-all", "title": "Against all", "kind": "against_all"}


def precinct_of(n: int) -> str:
    """The precinct of voter number n in `write_roll`."""
    return ONLINE[n % len(ONLINE)]


def district_of(precinct_id: str) -> str:
    return next(d for d, precincts in DISTRICTS.items() if precinct_id in precincts)


def definition(election_id: str, revoting: bool) -> dict:
    now = datetime.now(timezone.utc)
    return {
        "election_id": election_id,
        "title": f"Load test {election_id}",
        "opens_at": (now + timedelta(hours=1)).isoformat(),  # scheduled while the roll imports
        "closes_at": (now + timedelta(days=2)).isoformat(),
        "revoting": revoting,
        "auth_methods": ["otp", "signature"],
        "contests": [
            {"contest_id": "mayor", "title": "Mayor", "max_choices": 1,
             "options": [{"option_id": f"m{i}", "title": f"Candidate {i}"} for i in range(1, 5)]},
            *({"contest_id": d, "title": f"District {d[-1].upper()}", "max_choices": 1, "precincts": precincts,
               "options": [{"option_id": f"{d[-1]}{i}", "title": f"Candidate {d[-1].upper()}{i}"} for i in (1, 2)]
               + [AGAINST_ALL]}
              for d, precincts in DISTRICTS.items()),
            {"contest_id": "council", "title": "Council (party list)", "max_choices": 1,
             "seats": 10, "threshold_percent": 5, "allocation": "sainte-lague",
             "options": [{"option_id": f"c{i}", "title": f"Party {i}"} for i in range(1, 7)] + [AGAINST_ALL]},
        ],
        "precincts": [
            {"precinct_id": f"p{i:02d}", "name": f"Precinct {i}",
             "channel": "paper" if f"p{i:02d}" in PAPER else "online"}
            for i in range(1, PRECINCTS + 1)
        ],
    }


def write_roll(path: Path, voters: int, prefix: str = "v", digits: int = 7) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("voter_id,precinct_id,phone,public_key\n")
        for n in range(1, voters + 1):
            vid = voter_id(prefix, digits, n)
            key = public_key_b64(vid) if has_key(n) else ""
            f.write(f"{vid},{precinct_of(n)},+1555{n:07d},{key}\n")


def seed(stack, scratch: Path, elections: list[tuple[str, bool, int]], say=print) -> dict[str, float]:
    """Create, fill and open each (election_id, revoting, voters); return seconds per step."""
    timings: dict[str, float] = {}
    for election_id, revoting, voters in elections:
        started = time.perf_counter()
        spec = scratch / f"{election_id}.json"
        spec.write_text(json.dumps(definition(election_id, revoting)))
        stack.cli("election", "create", str(spec))
        roll = scratch / f"{election_id}-roll.csv"
        write_roll(roll, voters)
        written = time.perf_counter()
        say(stack.cli("roll", "import", election_id, str(roll)).splitlines()[-1])
        stack.cli("election", "open", election_id)
        roll.unlink()
        timings[election_id] = time.perf_counter() - started
        say(f"{election_id}: {voters:,} voters (roll file {written - started:.1f} s), "
            f"open after {timings[election_id]:.1f} s")
    return timings
