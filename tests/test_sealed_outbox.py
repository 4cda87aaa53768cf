"""The sealed outbox's pure parts: sealing to the tally key (services/common/sealed_box.py),
the messages and their padding (services/common/outbox.py), and what a batch of messages
does to the ballots (services/tally/batch.py)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common import outbox
from services.common.election import Contest, Option
from services.common.sealed_box import Opener, Sealer, SealError, generate_pem, load_private_keys, load_public_key
from services.common.settings import ConfigError, Env
from services.tally.batch import plan
from services.vote.receipts import canonical_selections
from tests.factories import definition


def pair():
    private, public = generate_pem()
    return load_private_keys(Env({"K": private.decode()}), "K")[0], load_public_key(Env({"K": public.decode()}), "K")


def test_only_the_tally_key_opens_and_only_for_the_row_it_was_sealed_for():
    key, public = pair()
    other, _ = pair()
    sealed = Sealer(public).batch().seal(b"ballot", b"election-a")
    assert Opener([key]).open(sealed, b"election-a") == b"ballot"
    with pytest.raises(SealError, match="another row"):
        Opener([key]).open(sealed, b"election-b")
    with pytest.raises(SealError, match="unknown tally key"):
        Opener([other]).open(sealed, b"election-a")
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    with pytest.raises(SealError):
        Opener([key]).open(bytes(tampered), b"election-a")
    with pytest.raises(SealError):
        Opener([key]).open(b"\x02" + sealed[1:], b"election-a")


def test_a_rotated_tally_opens_messages_sealed_to_its_old_and_new_keys():
    old, old_public = pair()
    new, new_public = pair()
    both = Opener([new, old])
    assert both.open(Sealer(old_public).batch().seal(b"a", b"e"), b"e") == b"a"
    assert both.open(Sealer(new_public).batch().seal(b"b", b"e"), b"e") == b"b"


def test_a_key_file_may_hold_several_keys_and_nothing_else():
    first, second = generate_pem()[0], generate_pem()[0]
    assert len(load_private_keys(Env({"K": (first + second).decode()}), "K")) == 2
    with pytest.raises(ConfigError, match="no PEM private key"):
        load_private_keys(Env({"K": "not a key"}), "K")
    with pytest.raises(ConfigError, match="not a PEM public key"):
        load_public_key(Env({"K": generate_pem()[0].decode()}), "K")  # a private key where a public one belongs


def test_each_batch_has_its_own_ephemeral_key_and_each_message_its_own_nonce():
    _, public = pair()
    sealer = Sealer(public)
    one, two = sealer.batch(), sealer.batch()
    a, b = one.seal(b"x", b"e"), one.seal(b"x", b"e")
    assert a[:41] == b[:41] and a != b  # same header (version, key id, ephemeral key), other nonce
    assert two.seal(b"x", b"e")[:41] != a[:41]


ELECTION = definition(
    "pad-test",
    contests=[
        Contest("mayor", "Mayor", [Option("a", "A"), Option("a-much-longer-option-id", "B")]),
        Contest("council", "Council", [Option(f"c{i}", f"C{i}") for i in range(12)], max_choices=5),
    ],
)
selections = st.fixed_dictionaries({
    "mayor": st.lists(st.sampled_from(["a", "a-much-longer-option-id"]), max_size=1),
    "council": st.lists(st.sampled_from([f"c{i}" for i in range(12)]), max_size=5, unique=True),
})


@settings(max_examples=200)
@given(choice=selections, supersedes=st.booleans())
def test_every_message_of_an_election_has_one_size_whatever_the_choices(choice, supersedes):
    message = outbox.CastMessage(
        "3f1c1d5e-8a61-4a7e-9c6e-1d2b3c4d5e6f", "r" * 24, "p1", canonical_selections(choice),
        "9a1c1d5e-8a61-4a7e-9c6e-1d2b3c4d5e6f" if supersedes else None,
    )
    encoded = outbox.encode(message, outbox.padded_size(ELECTION))
    assert len(encoded) == outbox.padded_size(ELECTION)
    assert outbox.decode(encoded) == message


def test_a_malformed_message_is_reported_not_misread():
    with pytest.raises(outbox.MalformedMessage):
        outbox.decode(b"\x00\x00\x00\x09abc")
    with pytest.raises(outbox.MalformedMessage):
        outbox.decode(b"\x00\x00\x00\x02\xc1\xc1")


# A batch: ballots cast, re-voted and annulled, in outbox order.
steps = st.lists(st.tuples(st.sampled_from(["cast", "revote", "annul"]), st.integers(0, 5)), max_size=30)


@given(before=steps, batch=steps)
def test_a_batch_plan_leaves_exactly_each_voters_last_ballot_live(before, batch):
    """Model: voters 0..5; `before` was applied in earlier batches (stored ballots), then
    `batch` arrives at once. Live ballots after the plan = each voter's last ballot,
    unless annulled."""
    latest: dict[int, str] = {}
    stored_live: set[str] = set()
    counter = iter(range(10_000))

    def messages(seq):
        out = []
        for kind, voter in seq:
            if kind in ("cast", "revote"):
                ballot = f"b{next(counter)}"
                out.append(("e", outbox.CastMessage(ballot, ballot, "p1", "{}", latest.get(voter))))
                latest[voter] = ballot
            elif voter in latest:
                out.append(("e", outbox.AnnulMessage(latest[voter])))
        return out

    for _, message in messages(before):  # the earlier batches, applied one message at a time
        if isinstance(message, outbox.CastMessage):
            stored_live.discard(message.supersedes)
            stored_live.add(message.ballot_id)
        else:
            stored_live.discard(message.ballot_id)
    expected_live = set(stored_live)
    incoming = messages(batch)
    for _, message in incoming:
        if isinstance(message, outbox.CastMessage):
            expected_live.discard(message.supersedes)
            expected_live.add(message.ballot_id)
        else:
            expected_live.discard(message.ballot_id)

    result = plan(incoming)
    removed = set(result.supersede) | set(result.annul)
    assert not removed & set(result.new)  # a ballot of this batch is marked before it is stored
    live = (stored_live - removed) | {b for b, n in result.new.items() if n.live}
    assert live == expected_live
    assert len(live) <= 6  # never more live ballots than voters
