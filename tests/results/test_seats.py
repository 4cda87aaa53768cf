"""Seat allocation (services/tally/seats.py): published worked examples and the textbook
properties of each method."""
from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.tally.seats import allocate

# The worked example of the Wikipedia articles "D'Hondt method" and "Sainte-Laguë method"
# (https://en.wikipedia.org/wiki/D%27Hondt_method#Example,
# https://en.wikipedia.org/wiki/Sainte-Lagu%C3%AB_method#Example): 230,000 votes, 8 seats.
WIKIPEDIA_DIVISOR = [100_000, 80_000, 30_000, 20_000]
# "Largest remainder method", Hare quota example
# (https://en.wikipedia.org/wiki/Largest_remainders_method#Examples): 100,000 votes, 10 seats.
WIKIPEDIA_HARE = [47_000, 16_000, 15_800, 12_000, 6_100, 3_100]


def test_dhondt_gives_the_published_result_of_the_worked_example():
    assert allocate("dhondt", WIKIPEDIA_DIVISOR, 8).seats == [4, 3, 1, 0]


def test_sainte_lague_gives_the_published_result_of_the_worked_example():
    # A's third quotient and D's first are both 20,000 (7th and 8th highest): both get a seat,
    # so the tie decides nothing.
    result = allocate("sainte-lague", WIKIPEDIA_DIVISOR, 8)
    assert result.seats == [3, 3, 1, 1]
    assert not result.tie_broken


def test_hare_gives_the_published_result_of_the_worked_example():
    result = allocate("hare", WIKIPEDIA_HARE, 10)
    assert result.seats == [5, 2, 1, 1, 1, 0]
    assert not result.tie_broken


def test_a_tie_for_the_last_seat_goes_to_more_votes_then_to_the_first_listed():
    # D'Hondt, 3 seats: quotients 60, 30 (A) and 30 (B) — the last seat is a tie A/B.
    assert allocate("dhondt", [60, 30], 3).seats == [2, 1]
    tie = allocate("dhondt", [30, 60], 2)  # 60, 30 (B's second) and 30 (A) tie for seat 2
    assert tie.seats == [0, 2] and tie.tie_broken
    equal = allocate("hare", [10, 10, 10], 2)
    assert equal.seats == [1, 1, 0] and equal.tie_broken
    assert allocate("sainte-lague", [10, 10], 1).seats == [1, 0]


def test_no_votes_means_no_seats():
    assert allocate("dhondt", [0, 0], 5).seats == [0, 0]
    assert allocate("hare", [], 5).seats == []


def test_negative_input_is_refused():
    with pytest.raises(ValueError):
        allocate("hare", [-1, 3], 2)


votes_lists = st.lists(st.integers(0, 10_000), min_size=1, max_size=8).filter(any)
methods = st.sampled_from(["dhondt", "sainte-lague", "hare"])


@settings(max_examples=300, deadline=None)
@given(methods, votes_lists, st.integers(0, 60))
def test_the_seats_add_up_and_a_party_without_votes_gets_none(method, votes, seats):
    won = allocate(method, votes, seats).seats
    assert sum(won) == seats
    assert all(w == 0 for w, v in zip(won, votes) if v == 0)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["dhondt", "sainte-lague"]), votes_lists, st.integers(0, 60))
def test_divisor_methods_are_house_monotone(method, votes, seats):
    smaller, larger = allocate(method, votes, seats).seats, allocate(method, votes, seats + 1).seats
    assert all(b >= a for a, b in zip(smaller, larger))


@settings(max_examples=300, deadline=None)
@given(votes_lists, st.integers(1, 60))
def test_hare_satisfies_quota(votes, seats):
    total = sum(votes)
    for won, v in zip(allocate("hare", votes, seats).seats, votes):
        quota = Fraction(v * seats, total)
        assert quota - 1 < won < quota + 1


@settings(max_examples=300, deadline=None)
@given(votes_lists, st.integers(1, 60))
def test_dhondt_never_gives_less_than_the_lower_quota(votes, seats):
    total = sum(votes)
    for won, v in zip(allocate("dhondt", votes, seats).seats, votes):
        assert won >= v * seats // total


@settings(max_examples=300, deadline=None)
@given(methods, votes_lists, st.integers(1, 30), st.randoms(use_true_random=False))
def test_without_a_tie_the_order_of_the_parties_does_not_matter(method, votes, seats, rng):
    result = allocate(method, votes, seats)
    order = list(range(len(votes)))
    rng.shuffle(order)
    shuffled = allocate(method, [votes[i] for i in order], seats)
    if not result.tie_broken:
        assert not shuffled.tie_broken
        assert shuffled.seats == [result.seats[i] for i in order]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["dhondt", "sainte-lague"]), votes_lists, st.integers(1, 30))
def test_divisor_seats_are_the_highest_quotients(method, votes, seats):
    """Against the definition: every seat won is worth at least every quotient not won."""
    step = 1 if method == "dhondt" else 2
    won = allocate(method, votes, seats).seats
    lowest_won = min(Fraction(v, 1 + step * (w - 1)) for v, w in zip(votes, won) if w)
    best_unwon = max(Fraction(v, 1 + step * w) for v, w in zip(votes, won))
    assert lowest_won >= best_unwon
