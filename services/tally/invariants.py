"""The checks every snapshot passes before it is published (API.md invariants). Pure.

`violations` returns every broken rule as a sentence; an empty list means the snapshot
may be published. Beyond API.md's list:
- a ballot names exactly the contests of its precinct (the vote service's contract), so
  a contest on every ballot has `ballots` equal to `turnout.voted`, and so has a district
  contest in the snapshot of one of its precincts; in any other precinct's snapshot a
  district contest counts nothing — a row counted twice, or outside its district, breaks
  this. In the total a district contest's ballots are at most voted; they are exact
  because the precinct snapshots are, and add up (`additivity`);
- a contest's `eligible` is the scope's (a contest on every ballot, or a district in the
  snapshot of its precinct), 0 outside its district, and bounds its ballots;
- seats (total only): an option passes the threshold exactly when it is not
  "against all" and has votes ≥ threshold_percent of the contest's ballots; only passing
  options hold seats, and the seats are the contest's allocation of the passing votes
  (adding up to `seats` once any option passes);
- multi-choice: each option ≤ ballots − abstentions, and the votes sum to at most
  max_choices × (ballots − abstentions);
- percents are the largest-remainder shares of the votes (any contest with votes sums
  to exactly 100.00), turnout percent is voted/eligible;
- the digest seals the body; versions strictly increase;
- `additivity`: the precinct snapshots add up to the total.
"""
from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from services.common.election import Contest, ElectionDefinition, contests_for

from .rounding import ratio, shares
from .seats import allocate
from .snapshot import Snapshot, digest_of


def violations(snapshot: Snapshot, definition: ElectionDefinition, *, previous_version: int | None = None) -> list[str]:
    out: list[str] = []
    version = snapshot["version"]
    if previous_version is not None and version <= previous_version:
        out.append(f"version {version} does not follow the published version {previous_version}")
    if snapshot.get("digest") != digest_of(snapshot):
        out.append("digest does not match the snapshot")
    turnout = snapshot["turnout"]
    eligible, voted = turnout["eligible"], turnout["voted"]
    if not 0 <= voted <= eligible:
        out.append(f"turnout voted {voted} is outside 0..eligible {eligible}")
    if _hundredths(turnout["percent"]) != ratio(voted, eligible):
        out.append(f"turnout percent {turnout['percent']} is not voted/eligible")
    if not 0 <= snapshot["precincts_reporting"] <= snapshot["precincts_total"]:
        out.append("precincts_reporting is outside 0..precincts_total")
    contests = {c.contest_id: c for c in definition.contests}
    seen = [c["contest_id"] for c in snapshot["contests"]]
    if sorted(seen) != sorted(contests):
        out.append(f"contests {seen} are not the election's contests {sorted(contests)}")
    precinct_id = snapshot.get("precinct_id")
    on_ballot = {c.contest_id for c in contests_for(definition, precinct_id)} if precinct_id is not None else None
    for result in snapshot["contests"]:
        contest = contests.get(result["contest_id"])
        if contest is not None:
            out.extend(_contest_violations(result, contest, turnout, on_ballot))
            out.extend(_seat_violations(result, contest, total=precinct_id is None))
    return out


def _contest_violations(result: dict, contest: Contest, turnout: dict, on_ballot: set[str] | None) -> list[str]:
    """`on_ballot`: in a precinct snapshot, the contests on that precinct's ballots."""
    cid, out = result["contest_id"], []
    ballots, abstentions = result["ballots"], result["abstentions"]
    votes = [o["votes"] for o in result["options"]]
    if [o["option_id"] for o in result["options"]] != [o.option_id for o in contest.options]:
        out.append(f"{cid}: options are not the contest's options")
    if min([ballots, abstentions, result["eligible"], *votes]) < 0:
        out.append(f"{cid}: a count is negative")
    whole = contest.precincts is None or (on_ballot is not None and cid in on_ballot)
    outside = on_ballot is not None and cid not in on_ballot
    voted, eligible = (0, 0) if outside else (turnout["voted"], turnout["eligible"])
    if whole or outside:
        if ballots != voted:
            out.append(f"{cid}: ballots {ballots} differ from the {voted} who voted where the contest applies")
        if result["eligible"] != eligible:
            out.append(f"{cid}: eligible {result['eligible']} differs from the {eligible} of its precincts")
    else:  # a district contest in the total: exact through its precincts' snapshots
        if ballots > voted:
            out.append(f"{cid}: ballots {ballots} exceed turnout voted {voted}")
        if result["eligible"] > eligible:
            out.append(f"{cid}: eligible {result['eligible']} exceeds turnout eligible {eligible}")
    if ballots > result["eligible"]:
        out.append(f"{cid}: ballots {ballots} exceed its eligible {result['eligible']}")
    if abstentions > ballots:
        out.append(f"{cid}: abstentions {abstentions} exceed ballots {ballots}")
    choosing = ballots - abstentions
    if contest.max_choices == 1:
        if sum(votes) + abstentions != ballots:
            out.append(f"{cid}: votes {sum(votes)} + abstentions {abstentions} != ballots {ballots}")
    else:
        if sum(votes) > contest.max_choices * choosing:
            out.append(f"{cid}: votes {sum(votes)} exceed {contest.max_choices} x {choosing} choosing ballots")
        if any(v > choosing for v in votes):
            out.append(f"{cid}: an option has more votes than the {choosing} choosing ballots")
        if choosing > 0 and sum(votes) < choosing:
            out.append(f"{cid}: {choosing} choosing ballots but only {sum(votes)} votes")
    percents = [_hundredths(o["percent"]) for o in result["options"]]
    if percents != shares(votes):
        out.append(f"{cid}: percents {percents} are not the largest-remainder shares of {votes}")
    if any(votes) and sum(percents) != 10_000:
        out.append(f"{cid}: percents sum to {sum(percents) / 100}, not 100.00")
    return out


def _seat_violations(result: dict, contest: Contest, *, total: bool) -> list[str]:
    cid, options = result["contest_id"], result["options"]
    if contest.seats is None or not total:
        shown = any(k in result for k in ("seats", "tie_broken")) or any("seats" in o for o in options)
        return [f"{cid}: seats shown where none are allocated"] if shown else []
    if result.get("seats") != contest.seats:
        return [f"{cid}: seats {result.get('seats')} are not the contest's {contest.seats}"]
    out = []
    threshold = Fraction(contest.threshold_hundredths, 10_000)
    for option, o in zip(contest.options, options):
        should = option.kind != "against_all" and o["votes"] > 0 and o["votes"] >= threshold * result["ballots"]
        if o.get("passes_threshold") is not should:
            out.append(f"{cid}/{o['option_id']}: passes_threshold should be {should}")
        if not o.get("passes_threshold") and o.get("seats") != 0:
            out.append(f"{cid}/{o['option_id']}: {o.get('seats')} seat(s) without passing the threshold")
    won = [o.get("seats") for o in options]
    passing = [o for o in options if o.get("passes_threshold")]
    if sum(w or 0 for w in won) != (contest.seats if passing else 0):
        out.append(f"{cid}: seats add up to {sum(w or 0 for w in won)}, not {contest.seats if passing else 0}")
    expected = allocate(contest.method, [o["votes"] for o in passing], contest.seats)
    if [o.get("seats") for o in passing] != expected.seats or result.get("tie_broken") is not expected.tie_broken:
        out.append(f"{cid}: seats are not the {contest.method} allocation of the passing votes")
    return out


def additivity(total: Snapshot, precincts: Iterable[Snapshot]) -> list[str]:
    """The precinct snapshots (all of them) must add up to the total."""
    precincts = list(precincts)
    out = []
    for field in ("eligible", "voted"):
        summed = sum(p["turnout"][field] for p in precincts)
        if summed != total["turnout"][field]:
            out.append(f"precincts' turnout {field} add up to {summed}, total says {total['turnout'][field]}")
    if sum(p["precincts_reporting"] for p in precincts) != total["precincts_reporting"]:
        out.append("precincts reporting do not add up")
    for i, contest in enumerate(total["contests"]):
        cid = contest["contest_id"]
        for field in ("eligible", "ballots", "abstentions"):
            summed = sum(p["contests"][i][field] for p in precincts)
            if summed != contest[field]:
                out.append(f"{cid}: precincts' {field} add up to {summed}, total says {contest[field]}")
        for j, option in enumerate(contest["options"]):
            summed = sum(p["contests"][i]["options"][j]["votes"] for p in precincts)
            if summed != option["votes"]:
                out.append(f"{cid}/{option['option_id']}: precincts add up to {summed}, total says {option['votes']}")
    return out


def _hundredths(percent: float) -> int:
    return round(percent * 100)
