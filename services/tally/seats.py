"""Seat allocation (API.md "Real ballot shapes"). Pure: integers only, no I/O.

`allocate(method, votes, seats)` gives each party its seats in the order of `votes`.
Parties below the threshold or "against all" are simply not passed in (seats.py knows
nothing of thresholds); the caller maps the result back.

- `dhondt` and `sainte-lague`: divisor methods, seats handed out one at a time to the
  highest quotient votes/d(s) with d(s) = s + 1 (D'Hondt) or 2s + 1 (Sainte-Laguë);
- `hare`: largest remainder with the Hare quota votes_total / seats: every party gets the
  whole part of its quota, the remaining seats go to the largest remainders.

Quotients are compared as fractions (cross-multiplied integers), never as floats, so equal
quotients really are equal. A tie for the last seat(s) goes to the party with more votes,
then to the one listed first (API.md); `Allocation.tie_broken` says a tie decided a seat.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

Method = Literal["dhondt", "sainte-lague", "hare"]
METHODS: tuple[Method, ...] = ("dhondt", "sainte-lague", "hare")


@dataclass(frozen=True)
class Allocation:
    seats: list[int]
    tie_broken: bool


def allocate(method: Method, votes: Sequence[int], seats: int) -> Allocation:
    if seats < 0 or any(v < 0 for v in votes):
        raise ValueError("seats and votes must not be negative")
    if not votes or seats == 0 or sum(votes) == 0:
        return Allocation([0] * len(votes), False)
    if method == "hare":
        return _largest_remainder(votes, seats)
    step = 1 if method == "dhondt" else 2
    if method not in ("dhondt", "sainte-lague"):
        raise ValueError(f"unknown allocation method {method!r}")
    return _divisor(votes, seats, step)


def _divisor(votes: Sequence[int], seats: int, step: int) -> Allocation:
    """Divisors 1, 1+step, 1+2*step, ...: D'Hondt (step 1) or Sainte-Laguë (step 2)."""
    won = [0] * len(votes)

    def quotient(i: int) -> Fraction:
        return Fraction(votes[i], 1 + step * won[i])

    tie_broken = False
    for remaining in range(seats, 0, -1):
        best = max(quotient(i) for i in range(len(votes)))
        tied = [i for i in range(len(votes)) if votes[i] and quotient(i) == best]
        # A tie matters only when it holds more parties than seats are left to give.
        if len(tied) > remaining:
            tie_broken = True
        winner = min(tied, key=lambda i: (-votes[i], i))
        won[winner] += 1
    return Allocation(won, tie_broken)


def _largest_remainder(votes: Sequence[int], seats: int) -> Allocation:
    total = sum(votes)
    whole = [v * seats // total for v in votes]
    remainders = [v * seats - w * total for v, w in zip(votes, whole)]  # remainder × total, exact
    left = seats - sum(whole)
    order = sorted(range(len(votes)), key=lambda i: (-remainders[i], -votes[i], i))
    tie_broken = False
    if 0 < left < len(votes):
        cut = remainders[order[left - 1]]
        tie_broken = remainders[order[left]] == cut
    for i in order[:left]:
        whole[i] += 1
    return Allocation(whole, tie_broken)
