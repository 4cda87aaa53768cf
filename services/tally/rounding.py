"""Percentages that add up: largest-remainder rounding to two decimals. Pure.

Work in hundredths of a percent (integers), so sums are exact: shares of a non-zero
total always add up to exactly 10000 hundredths (100.00 %). Ties in the remainder go to
the larger count, then to the earlier item, so the result is deterministic.
"""
from __future__ import annotations

from collections.abc import Sequence

WHOLE = 10_000  # 100.00 % in hundredths


def shares(counts: Sequence[int]) -> list[int]:
    """Each count's share of the total in hundredths of a percent; all zero when the
    total is zero."""
    total = sum(counts)
    if total <= 0:
        return [0] * len(counts)
    floors = [c * WHOLE // total for c in counts]
    remainders = [c * WHOLE % total for c in counts]
    missing = WHOLE - sum(floors)
    order = sorted(range(len(counts)), key=lambda i: (-remainders[i], -counts[i], i))
    for i in order[:missing]:
        floors[i] += 1
    return floors


def ratio(part: int, whole: int) -> int:
    """part/whole in hundredths of a percent, rounded half up; 0 when whole is 0."""
    if whole <= 0:
        return 0
    return (part * WHOLE * 2 + whole) // (2 * whole)


def as_percent(hundredths: int) -> float:
    return hundredths / 100
