"""What one batch of opened outbox messages does to the ballots. Pure.

Messages are taken in outbox order (the order their vote transactions committed in, for
any two that depend on each other). A re-vote's message names the ballot it supersedes:
when that ballot arrived in the same batch, it is stored already superseded and never
counted; otherwise the stored ballot is marked by the caller, who subtracts it if it was
live. Either way both halves of a re-vote land in one tally transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from services.common.outbox import AnnulMessage, CastMessage, Message


@dataclass
class NewBallot:
    election_id: str
    receipt_id: str
    precinct_id: str
    selections: str
    superseded: bool = False
    annulled: bool = False

    @property
    def live(self) -> bool:
        return not (self.superseded or self.annulled)


@dataclass
class Plan:
    new: dict[str, NewBallot] = field(default_factory=dict)  # by ballot_id, in arrival order
    supersede: list[str] = field(default_factory=list)  # stored ballots a re-vote replaced
    annul: list[str] = field(default_factory=list)  # stored ballots annulled


def plan(messages: list[tuple[str, Message]]) -> Plan:
    """`messages`: (election_id, message) in outbox order."""
    out = Plan()
    for election_id, message in messages:
        if isinstance(message, CastMessage):
            if message.supersedes is not None:
                earlier = out.new.get(message.supersedes)
                if earlier is not None:
                    earlier.superseded = True
                else:
                    out.supersede.append(message.supersedes)
            out.new[message.ballot_id] = NewBallot(
                election_id, message.receipt_id, message.precinct_id, message.selections
            )
        elif isinstance(message, AnnulMessage):
            earlier = out.new.get(message.ballot_id)
            if earlier is not None:
                earlier.annulled = True
            else:
                out.annul.append(message.ballot_id)
    return out
