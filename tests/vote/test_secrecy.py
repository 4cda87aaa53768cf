"""Ballot secrecy: the database alone does not link a voter to a choice; logs neither."""
from __future__ import annotations

import logging
import uuid

from services.vote.schemas import sealed_ref_decoder
from services.vote.sealing import Keyring
from tests.tally_keys import tally_now

from .conftest import SECRET, Voter, new_key

BALLOT_COLUMNS = {"ballot_id", "receipt_id", "election_id", "precinct_id", "selections", "superseded", "annulled"}


async def columns(pool, table: str) -> dict:
    rows = await pool.fetch(
        "SELECT column_name, data_type, column_default, is_identity FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = $1",
        table,
    )
    return {r["column_name"]: r for r in rows}


async def test_ballots_have_no_voter_no_sequence_and_no_time_column(pool):
    ballots = await columns(pool, "ballots")
    assert set(ballots) == BALLOT_COLUMNS
    for name, column in ballots.items():
        assert column["is_identity"] == "NO" and "nextval" not in (column["column_default"] or ""), name
    assert not [n for n, c in ballots.items() if c["data_type"].startswith("timestamp")]


async def test_participation_and_idempotency_rows_hold_no_ballot_or_receipt_id_in_clear(vote_client, minter, election, revoting_election, pool):
    for n in range(5):
        await Voter(vote_client, minter, f"v-{n}").cast(key=new_key())
        revoter = Voter(vote_client, minter, f"v-{n}", election_id="revote-election")
        await revoter.cast(key=new_key())
        await revoter.cast({"mayor": [], "council": []}, key=new_key())
    await tally_now(pool)
    secrets_in_clear = []
    for row in await pool.fetch("SELECT ballot_id, receipt_id FROM ballots"):
        secrets_in_clear += [str(row["ballot_id"]).encode(), row["ballot_id"].bytes, row["receipt_id"].encode()]
        secrets_in_clear.append(str(row["ballot_id"]).replace("-", "").encode())
    assert len(secrets_in_clear) == 4 * 15
    for table in ("participation", "idempotency_keys"):
        assert not any(c["data_type"] == "uuid" for c in (await columns(pool, table)).values())
        rows = await pool.fetch(f"SELECT * FROM {table}")
        assert rows
        for row in rows:
            for value in row.values():
                raw = value if isinstance(value, bytes) else str(value).encode()
                assert not any(secret in raw for secret in secrets_in_clear), (table, value)


async def test_recorded_times_are_whole_minutes(vote_client, minter, election, pool):
    await Voter(vote_client, minter).cast(key=new_key())
    assert await pool.fetchval("SELECT bool_and(extract(second FROM last_recorded_at) = 0) FROM participation")


async def test_logs_never_name_the_voter(vote_client, minter, election, caplog):
    voter_id = f"voter-{uuid.uuid4().hex}"
    with caplog.at_level(logging.DEBUG):
        voter = Voter(vote_client, minter, voter_id)
        await voter.cast(key=new_key())
        await voter.cast({"mayor": ["bob"], "council": []}, key=new_key())
        await voter.mine()
    assert not any(voter_id in r.getMessage() or voter_id in str(r.__dict__) for r in caplog.records)


async def test_what_annulment_by_rule_needs_is_kept_sealed_with_the_participation_row(make_vote_client, minter, election, pool):
    client = await make_vote_client(VOTE_TRUSTED_PROXIES="127.0.0.1/32")
    voter = Voter(client, minter, "v-annulment")
    response = await voter.cast(key=new_key(), headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.9"})
    assert response.status == 201
    row = await pool.fetchrow("SELECT sealed_ballot FROM participation WHERE voter = 'v-annulment'")
    assert b"203.0.113.9" not in bytes(row["sealed_ballot"]) and b"otp" not in bytes(row["sealed_ballot"])
    ref = sealed_ref_decoder.decode(Keyring(SECRET.encode()).open_participation("test-election", "v-annulment", bytes(row["sealed_ballot"])))
    assert ref.amr == ["otp"]
    assert ref.client_address == "203.0.113.9"  # the right-most hop the trusted proxy (the peer) appended
    assert ref.cast_at.endswith("Z") and len(ref.cast_at) == len("2026-01-01T00:00:00Z")
    assert ref.receipt.receipt_id == (await response.json())["receipt"]["receipt_id"]
