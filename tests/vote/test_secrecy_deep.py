"""Secrecy, deeper (issue 8): someone with full access to the database — SQL including
`xmin` and `ctid`, the heap files (every tuple version, dead ones too, as pageinspect
would show them) and the WAL — cannot link a voter to a choice better than chance.

The run is the worst case: VOTE_BATCH_MAX=1, so each ballot is alone in its vote
transaction, and every voter's choice is unique (option i of 30), so any link found is a
certain one. The tally then takes all the ballots in one batch.

Before the sealed outbox, the vote transaction wrote the ballot row itself: its WAL
record held the choice next to the voter's participation row, and the ballot's first
tuple version carried the voter's transaction id until vacuum.
"""
from __future__ import annotations

import os
import random
import secrets
import struct
from pathlib import Path

import pytest

from services.common.election import Contest, Option
from tests.factories import create_election, definition
from tests.tally_keys import tally_now

from .conftest import Voter, new_key

ELECTION = "secret-ballot"
N = 30


@pytest.fixture
async def election_with_unique_choices(pool):
    options = [Option(f"opt-{secrets.token_hex(8)}", f"Option {i}") for i in range(N)]
    d = definition(ELECTION, contests=[Contest("party", "Party list", options)])
    await create_election(pool, d, [(f"s-{i}", "p1", None, None) for i in range(N)])
    return [o.option_id for o in options]


async def data_directory(pool) -> Path | None:
    try:
        path = Path(await pool.fetchval("SHOW data_directory"))
    except Exception:  # noqa: BLE001 - not a superuser on an external server
        return None
    return path if os.access(path / "pg_wal", os.R_OK) else None


async def wal_between(pool, data: Path, start: str, end: str) -> bytes:
    """The WAL bytes from LSN `start` to `end`, read from the segment files."""
    (first, first_offset), (last, last_offset) = [
        tuple(await pool.fetchrow("SELECT file_name, file_offset FROM pg_walfile_name_offset($1::text::pg_lsn)", lsn))
        for lsn in (start, end)
    ]
    out = bytearray()
    for name in sorted(n for n in os.listdir(data / "pg_wal") if len(n) == 24 and first <= n <= last):
        chunk = (data / "pg_wal" / name).read_bytes()
        stop = last_offset if name == last else len(chunk)
        out += chunk[first_offset if name == first else 0 : stop]
    return bytes(out)


def heap_xmins(path: Path) -> list[int]:
    """t_xmin of every tuple version in a heap file (live, dead, updated): what
    pageinspect's heap_page_items shows, read from the file itself."""
    xmins, raw = [], path.read_bytes()
    for page in range(0, len(raw), 8192):
        block = raw[page : page + 8192]
        lower = struct.unpack_from("<H", block, 12)[0]
        for item in range(24, lower, 4):
            (word,) = struct.unpack_from("<I", block, item)
            offset, flags, length = word & 0x7FFF, (word >> 15) & 0x3, word >> 17
            if flags == 1 and length >= 23:  # LP_NORMAL
                xmins.append(struct.unpack_from("<I", block, offset)[0])
    return xmins


def correct_links(guess: list[tuple[str, str]], truth: dict[str, str]) -> int:
    return sum(truth[voter] == choice for voter, choice in guess)


async def test_no_voter_is_linkable_to_a_choice_from_sql_heap_files_or_wal(pool, make_vote_client, minter, election_with_unique_choices):
    options = election_with_unique_choices
    client = await make_vote_client(VOTE_BATCH_MAX="1")
    data = await data_directory(pool)
    truth = dict(zip((f"s-{i}" for i in range(N)), random.sample(options, N)))
    start = await pool.fetchval("SELECT pg_current_wal_insert_lsn()::text")
    for voter, choice in truth.items():  # one at a time: each ballot alone in its transaction
        response = await Voter(client, minter, voter, election_id=ELECTION).cast({"party": [choice]}, key=new_key())
        assert response.status == 201, await response.text()
    end = await pool.fetchval("SELECT pg_current_wal_insert_lsn()::text")

    # 1. The WAL of the vote transactions holds no choice, in any encoding we could think of.
    if data is not None:
        wal = await wal_between(pool, data, start, end)
        assert len(wal) > N * 200, "the WAL range is not the vote transactions'"
        leaked = [o for o in options if o.encode() in wal or o.encode("utf-16-le") in wal]
        assert not leaked, f"{len(leaked)} choices in clear in the vote transactions' WAL"

    assert await tally_now(pool) == N  # one batch: the tally's batch size is larger than N
    participation = {r["voter"]: r for r in await pool.fetch("SELECT voter, xmin::text::bigint AS x, ctid FROM participation")}
    ballots = await pool.fetch(
        "SELECT xmin::text::bigint AS x, ctid, ballot_id, receipt_id, selections->'party'->>0 AS choice FROM ballots"
    )
    assert len(participation) == len(ballots) == N

    # 2. No ballot row shares a transaction id with a participation row...
    assert {b["x"] for b in ballots}.isdisjoint(r["x"] for r in participation.values())
    # ...not even a dead or earlier version of it (what pageinspect or a raw file shows).
    if data is not None:
        await pool.execute("CHECKPOINT")
        relation = data / await pool.fetchval("SELECT pg_relation_filepath('ballots')")
        assert set(heap_xmins(relation)).isdisjoint(r["x"] for r in participation.values())

    # 3. Orders: voters by commit order (xmin) or physical order (ctid) against ballots by
    # physical order, id or receipt. A random matching gets 1 right on average; 6 or more
    # happens by chance about once in 1,500 runs.
    voters_by = {
        "xmin": sorted(participation, key=lambda v: participation[v]["x"]),
        "ctid": sorted(participation, key=lambda v: participation[v]["ctid"]),
    }
    ballots_by = {
        "ctid": sorted(ballots, key=lambda b: b["ctid"]),
        "ballot_id": sorted(ballots, key=lambda b: str(b["ballot_id"])),
        "receipt_id": sorted(ballots, key=lambda b: b["receipt_id"]),
    }
    for voter_order, voters in voters_by.items():
        for ballot_order, ordered in ballots_by.items():
            for direction in (1, -1):
                guess = list(zip(voters, [b["choice"] for b in ordered][::direction]))
                assert correct_links(guess, truth) < 6, f"voters by {voter_order} ~ ballots by {ballot_order}"
