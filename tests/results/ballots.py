"""A stand-in for the vote service's writes (migrations 0003 and 0005's contract), for
the tally tests: one transaction per ballot writes the voter's participation row and ONE
sealed outbox message (the new ballot and the one it supersedes); an annulment is a
sealed annul message.

`Model` keeps what the results must say, computed from first principles: the live
ballots (not superseded, not annulled) and nothing else.
"""
from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass, field

import asyncpg

from services.common import outbox
from services.common.election import ElectionDefinition
from services.vote.receipts import canonical_selections
from tests.tally_keys import sealed


@dataclass(frozen=True)
class Cast:
    ballot_id: uuid.UUID
    receipt_id: str
    precinct_id: str
    selections: dict[str, list[str]]
    voter: str = ""


async def cast(
    pool: asyncpg.Pool,
    definition: ElectionDefinition | str,
    precinct_id: str,
    selections: dict[str, list[str]],
    *,
    supersedes: Cast | None = None,
) -> Cast:
    definition = _definition(definition)
    voter = supersedes.voter if supersedes is not None else f"voter-{uuid.uuid4().hex[:12]}"
    ballot = Cast(uuid.uuid4(), secrets.token_urlsafe(16), precinct_id, selections, voter)
    message = outbox.CastMessage(
        str(ballot.ballot_id), ballot.receipt_id, precinct_id, canonical_selections(selections),
        str(supersedes.ballot_id) if supersedes is not None else None,
    )
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO participation (election_id, voter, last_recorded_at, sealed_ballot)"
            " VALUES ($1, $2, date_trunc('minute', now()), '\\x00')"
            " ON CONFLICT (election_id, voter) DO UPDATE SET ballots_cast = participation.ballots_cast + 1",
            definition.election_id, voter,
        )
        await conn.execute(
            "INSERT INTO tally_outbox (election_id, sealed) VALUES ($1, $2)",
            definition.election_id, sealed(definition, message),
        )
    return ballot


async def annul(pool: asyncpg.Pool, definition: ElectionDefinition | str, ballot: Cast) -> None:
    definition = _definition(definition)
    await pool.execute(
        "INSERT INTO tally_outbox (election_id, sealed) VALUES ($1, $2)",
        definition.election_id, sealed(definition, outbox.AnnulMessage(str(ballot.ballot_id))),
    )


_known: dict[str, ElectionDefinition] = {}


def remember(definition: ElectionDefinition) -> ElectionDefinition:
    """Let tests name this election by its id."""
    _known[definition.election_id] = definition
    return definition


def _definition(definition: ElectionDefinition | str) -> ElectionDefinition:
    return _known[definition] if isinstance(definition, str) else remember(definition)


def random_selections(definition: ElectionDefinition, rng: random.Random) -> dict[str, list[str]]:
    out = {}
    for contest in definition.contests:
        k = rng.randint(0, contest.max_choices)  # 0: an abstention
        out[contest.contest_id] = rng.sample([o.option_id for o in contest.options], k)
    return out


@dataclass
class Model:
    """The live ballots, and the counts they must produce."""

    definition: ElectionDefinition
    live: dict[uuid.UUID, Cast] = field(default_factory=dict)

    def add(self, ballot: Cast, *, replaces: Cast | None = None) -> None:
        if replaces is not None:
            self.live.pop(replaces.ballot_id)
        self.live[ballot.ballot_id] = ballot

    def remove(self, ballot: Cast) -> None:
        self.live.pop(ballot.ballot_id)

    def contests(self, precinct_id: str | None = None) -> dict[str, dict]:
        """{contest_id: {"ballots", "abstentions", "votes": {option_id: n}}} over the scope."""
        out = {
            c.contest_id: {"ballots": 0, "abstentions": 0, "votes": {o.option_id: 0 for o in c.options}}
            for c in self.definition.contests
        }
        for b in self.live.values():
            if precinct_id is not None and b.precinct_id != precinct_id:
                continue
            for cid, chosen in b.selections.items():
                out[cid]["ballots"] += 1
                out[cid]["abstentions"] += not chosen
                for o in chosen:
                    out[cid]["votes"][o] += 1
        return out

    def voted(self, precinct_id: str | None = None) -> int:
        return sum(1 for b in self.live.values() if precinct_id is None or b.precinct_id == precinct_id)


def snapshot_counts(snapshot: dict) -> dict[str, dict]:
    """The same shape as `Model.contests`, read from a published snapshot."""
    return {
        c["contest_id"]: {
            "ballots": c["ballots"],
            "abstentions": c["abstentions"],
            "votes": {o["option_id"]: o["votes"] for o in c["options"]},
        }
        for c in snapshot["contests"]
    }


async def random_election_ballots(
    pool: asyncpg.Pool, definition: ElectionDefinition, n: int, *, seed: int = 7, revote_share: float = 0.3
) -> tuple[Model, list[Cast]]:
    """n ballots over the online precincts; a share of them re-votes of earlier voters."""
    rng = random.Random(seed)
    model = Model(definition)
    precincts = [p.precinct_id for p in definition.precincts if p.channel == "online"]
    current: list[Cast] = []  # each voter's live ballot
    for _ in range(n):
        if current and rng.random() < revote_share:
            i = rng.randrange(len(current))
            old = current[i]
            new = await cast(pool, definition, old.precinct_id, random_selections(definition, rng), supersedes=old)
            model.add(new, replaces=old)
            current[i] = new
        else:
            new = await cast(pool, definition, rng.choice(precincts), random_selections(definition, rng))
            model.add(new)
            current.append(new)
    return model, current
