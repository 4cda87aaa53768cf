"""Receipts are signed with the vote service's published key and fingerprint the ballot
without revealing it."""
from __future__ import annotations

import base64
import hashlib
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from tests.tally_keys import tally_now

from .conftest import Voter, new_key


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def test_a_receipt_verifies_with_the_published_key_over_the_documented_canonical_form(make_vote_client, minter, election):
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    client = await make_vote_client(VOTE_SIGNING_KEY=pem.decode())
    receipt = (await (await Voter(client, minter).cast(key=new_key())).json())["receipt"]
    jwks = await (await client.get("/.well-known/jwks.json")).json()
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == receipt["key_id"]]
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519"
    signed = {k: v for k, v in receipt.items() if k != "signature"}
    payload = json.dumps(signed, sort_keys=True, separators=(",", ":")).encode()
    Ed25519PublicKey.from_public_bytes(unb64(jwk["x"])).verify(unb64(receipt["signature"]), payload)


async def test_the_fingerprint_is_recomputable_from_the_ballot_row(vote_client, minter, election, pool):
    receipt = (await (await Voter(vote_client, minter).cast({"mayor": ["alice"], "council": ["red", "green"]}, key=new_key())).json())["receipt"]
    await tally_now(pool)
    row = await pool.fetchrow("SELECT ballot_id, selections::text AS s FROM ballots WHERE receipt_id = $1", receipt["receipt_id"])
    canonical = json.dumps({c: sorted(o) for c, o in sorted(json.loads(row["s"]).items())}, separators=(",", ":"))
    assert canonical == '{"council":["green","red"],"mayor":["alice"]}'
    digest = hashlib.sha256(f"{row['ballot_id']}\n{receipt['receipt_id']}\n{canonical}".encode()).digest()
    assert receipt["fingerprint"] == "sha256:" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def test_metrics_count_ballots_by_outcome_and_batch_sizes(vote_client, minter, election, scrape_metrics):
    voter = Voter(vote_client, minter)
    await voter.cast(key=new_key())
    await voter.cast(key=new_key())
    text = await scrape_metrics()
    assert 'ballotline_vote_ballots_total{code="created",result="accepted"}' in text
    assert 'ballotline_vote_ballots_total{code="already_voted",result="refused"}' in text
    for name in ("ballotline_vote_batch_size_bucket", "ballotline_vote_queue_depth", "ballotline_vote_commit_seconds_bucket"):
        assert name in text
