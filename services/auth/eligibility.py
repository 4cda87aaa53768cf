"""Who may log in, and by which method. Pure: the use cases answer a refused request
with a decoy challenge, so the reason never leaves the process (it is only logged)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from services.common.election import Election

from .voters import VoterRecord

Method = Literal["otp", "signature"]


def method_refused(election: Election | None, method: Method) -> bool:
    """The election does not (or, after `ballotline election policy`, no longer) accept
    `method`. Its methods are public, so this refusal is said openly, whoever asks."""
    return election is not None and method not in election.definition.auth_methods


def refusal(election: Election | None, voter: VoterRecord | None, method: Method, now: datetime) -> str | None:
    """Why `voter` may not log in to `election` with `method` now, or None if they may."""
    if election is None:
        return "unknown_election"
    if election.status(now) != "open":
        return "election_not_open"
    if method not in election.definition.auth_methods:
        return "method_not_allowed"
    if voter is None:
        return "unknown_voter"
    precinct = election.precinct(voter.precinct_id)
    if precinct is None or precinct.channel != "online":
        return "paper_precinct"
    if method == "otp" and not voter.phone:
        return "no_phone"
    if method == "signature" and voter.public_key is None:
        return "no_public_key"
    return None
