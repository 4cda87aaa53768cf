"""The audit chain's rules (services/common/audit_chain.py), property-tested: a chain the
writer builds verifies; any change to any entry, a removed or reordered entry, is found
at the first entry it breaks; hashes are API.md's definition, recomputed independently."""
from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from services.common.audit_chain import GENESIS, first_broken, format_at, head, next_entry

_text = st.text(min_size=1, max_size=20)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_changes = st.lists(
    st.tuples(_text, st.sampled_from(["election.create", "roll.import", "election.open", "election.extend"]),
              st.none() | _text, st.dictionaries(st.text(max_size=8), _json_values, max_size=4)),
    min_size=1, max_size=8,
)
T0 = datetime(2026, 11, 21, 6, 0, tzinfo=timezone.utc)


def build(changes) -> list[dict]:
    entries: list[dict] = []
    for i, (actor, action, reason, details) in enumerate(changes):
        entries.append(next_entry(entries[-1] if entries else None, at=T0 + timedelta(microseconds=1234567 * i),
                                  actor=actor, action=action, reason=reason, details=details))
    return entries


def api_md_hash(entry: dict) -> str:
    without = {k: v for k, v in entry.items() if k != "hash"}
    text = json.dumps(without, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@given(_changes)
def test_a_chain_as_written_is_intact_and_follows_api_md(changes):
    entries = build(changes)
    assert first_broken(entries) is None
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0]["prev_hash"] == GENESIS == "sha256:" + "0" * 64
    for before, after in zip(entries, entries[1:]):
        assert after["prev_hash"] == before["hash"]
    assert all(e["hash"] == api_md_hash(e) for e in entries)
    assert head(entries) == entries[-1]["hash"]


@given(_changes, st.data())
def test_any_edited_field_is_found_at_the_entry_edited(changes, data):
    entries = build(changes)
    victim = data.draw(st.integers(0, len(entries) - 1))
    field = data.draw(st.sampled_from(["seq", "at", "actor", "action", "reason", "details", "prev_hash", "hash"]))
    edited = copy.deepcopy(entries)
    original = edited[victim][field]
    replacement = data.draw(_json_values.filter(lambda v: v != original))
    edited[victim][field] = replacement
    assert first_broken(edited) == victim + 1


@given(_changes, st.data())
def test_an_edit_with_its_hash_recomputed_still_breaks_the_next_link(changes, data):
    entries = build(changes)
    if len(entries) < 2:
        return
    victim = data.draw(st.integers(0, len(entries) - 2))
    edited = copy.deepcopy(entries)
    edited[victim]["actor"] = edited[victim]["actor"] + "!"
    edited[victim]["hash"] = api_md_hash(edited[victim])
    assert first_broken(edited) == victim + 2


@given(_changes, st.data())
def test_a_removed_entry_is_found_where_it_is_missing(changes, data):
    entries = build(changes)
    if len(entries) < 2:
        return
    victim = data.draw(st.integers(0, len(entries) - 2))
    assert first_broken(entries[:victim] + entries[victim + 1:]) == victim + 1


@given(_changes)
def test_reordered_entries_break_at_the_first_moved_one(changes):
    entries = build(changes)
    if len(entries) < 2:
        return
    swapped = [entries[1], entries[0], *entries[2:]]
    assert first_broken(swapped) == 1


def test_times_are_utc_to_the_microsecond():
    at = datetime(2026, 11, 21, 8, 0, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    assert format_at(at) == "2026-11-21T06:00:00.000005Z"


def test_an_empty_chain_is_intact_and_its_head_is_genesis():
    assert first_broken([]) is None and head([]) == GENESIS
