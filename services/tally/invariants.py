"""The checks every snapshot passes before it is published (API.md invariants). Pure.

`violations` returns every broken rule as a sentence; an empty list means the snapshot
may be published. Beyond API.md's list:
- every ballot names every contest (the vote service's contract), so each contest's
  `ballots` equals `turnout.voted` — a row counted twice in one table breaks this;
- multi-choice: each option ≤ ballots − abstentions, and the votes sum to at most
  max_choices × (ballots − abstentions);
- percents are the largest-remainder shares of the votes (any contest with votes sums
  to exactly 100.00), turnout percent is voted/eligible;
- the digest seals the body; versions strictly increase;
- `additivity`: the precinct snapshots add up to the total.
"""
from __future__ import annotations

from collections.abc import Iterable

from services.common.election import ElectionDefinition

from .rounding import ratio, shares
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
    for result in snapshot["contests"]:
        contest = contests.get(result["contest_id"])
        if contest is not None:
            out.extend(_contest_violations(result, contest, voted))
    return out


def _contest_violations(result: dict, contest, voted: int) -> list[str]:
    cid, out = result["contest_id"], []
    ballots, abstentions = result["ballots"], result["abstentions"]
    votes = [o["votes"] for o in result["options"]]
    if [o["option_id"] for o in result["options"]] != [o.option_id for o in contest.options]:
        out.append(f"{cid}: options are not the contest's options")
    if min([ballots, abstentions, *votes]) < 0:
        out.append(f"{cid}: a count is negative")
    if ballots != voted:
        out.append(f"{cid}: ballots {ballots} differ from turnout voted {voted}")
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
        for field in ("ballots", "abstentions"):
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
