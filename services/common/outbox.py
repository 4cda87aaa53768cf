"""The tally outbox's messages: the contract between their writers (the vote service,
operator commands) and their one reader (the tally). Pure.

One message per change, sealed to the tally key (sealed_box.py) before it is stored:
- `CastMessage`: a new ballot, and the earlier ballot of the same voter it supersedes
  (re-voting), in one message — so the tally applies both halves of a re-vote together
  or not at all;
- `AnnulMessage`: a ballot removed by an audited operator action.

Every message of an election is padded to one size (`padded_size`), so the length of a
sealed row says nothing about the choices in it.
"""
from __future__ import annotations

import msgspec

from .election import ElectionDefinition


class CastMessage(msgspec.Struct, tag="cast", array_like=True, frozen=True):
    ballot_id: str
    receipt_id: str
    precinct_id: str
    selections: str  # canonical JSON, as receipts fingerprint it
    supersedes: str | None = None  # the voter's earlier ballot, if any


class AnnulMessage(msgspec.Struct, tag="annul", array_like=True, frozen=True):
    ballot_id: str


Message = CastMessage | AnnulMessage

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Message)
_LENGTH = 4
_BLOCK = 256


class MalformedMessage(Exception):
    pass


def padded_size(definition: ElectionDefinition) -> int:
    """An upper bound of any message of this election, rounded up to 256 bytes. It counts
    every contest, though a ballot holds only its precinct's (districts): still a bound,
    and one size for every precinct, so a row's length does not tell the district."""
    ids = 4 * 40 + 64 + 16  # ballot, receipt and superseded ids with framing; precinct id
    ballot = 2 + sum(
        len(c.contest_id) + 6 + c.max_choices * (max((len(o.option_id) for o in c.options), default=0) + 3)
        for c in definition.contests
    )
    bound = _LENGTH + ids + 2 * ballot  # JSON escapes are counted twice over
    return -(-bound // _BLOCK) * _BLOCK


def encode(message: Message, size: int) -> bytes:
    body = _encoder.encode(message)
    padding = size - _LENGTH - len(body)
    if padding < 0:
        raise ValueError(f"a message of {len(body)} bytes does not fit in {size}")
    return len(body).to_bytes(_LENGTH, "big") + body + bytes(padding)


def decode(data: bytes) -> Message:
    length = int.from_bytes(data[:_LENGTH], "big")
    if len(data) < _LENGTH + length:
        raise MalformedMessage("the message is shorter than its length prefix")
    try:
        return _decoder.decode(data[_LENGTH : _LENGTH + length])
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise MalformedMessage(str(exc)) from None
