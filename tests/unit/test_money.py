"""money.split and yuan parsing: parts always sum to the whole, integer arithmetic only."""
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coop.money import MoneyError, apply_rate, format_yuan, parse_yuan, split

amounts = st.one_of(st.integers(0, 10**6), st.integers(0, 10**17))
weights = st.lists(st.one_of(st.just(0), st.integers(0, 10**4), st.integers(0, 10**15)),
                   min_size=1, max_size=60)


@settings(max_examples=1500, deadline=None)
@given(amounts, weights)
def test_split_parts_sum_exactly_and_stay_within_one_fen(amount, ws):
    if sum(ws) == 0:
        if amount:
            with pytest.raises(MoneyError):
                split(amount, ws)
        else:
            assert split(amount, ws) == [0] * len(ws)
        return
    parts = split(amount, ws)
    assert sum(parts) == amount
    total = sum(ws)
    for part, w in zip(parts, ws):
        exact = Fraction(amount * w, total)
        assert abs(part - exact) < 1, "each part is within one fen of its exact share"
        if w == 0:
            assert part == 0


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**12), st.lists(st.integers(1, 10**6), min_size=1, max_size=30))
def test_split_is_deterministic_and_ties_follow_keys(amount, ws):
    keys = list(range(len(ws)))[::-1]
    assert split(amount, ws, keys) == split(amount, list(ws), list(keys))


def test_split_to_one_holder_gives_everything():
    assert split(123_456_789, [7]) == [123_456_789]


def test_split_huge_amount_stays_exact():
    amount = 10**17  # leaves one fen over after three equal parts
    parts = split(amount, [1, 1, 1])
    assert sum(parts) == amount and max(parts) - min(parts) == 1


def test_ties_are_broken_by_key_ascending():
    # 10 fen over three equal weights: 3/3/3 plus one fen to the smallest key.
    assert split(10, [1, 1, 1], keys=[30, 10, 20]) == [3, 4, 3]


def test_split_rejects_negative_or_float_input():
    with pytest.raises(MoneyError):
        split(-1, [1])
    with pytest.raises(MoneyError):
        split(10, [1.5, 1])
    with pytest.raises(MoneyError):
        split(10, [1, -1])


@pytest.mark.parametrize("text,fen", [
    ("0", 0), ("1", 100), ("12.5", 1250), ("1,234.56", 123456), ("￥3.01", 301),
    ("300000元", 30_000_000), ("-2.10", -210),
])
def test_parse_yuan(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["abc", "1.234", "NaN", "Infinity", "", "1e30"])
def test_parse_yuan_refuses_non_amounts(text):
    with pytest.raises(MoneyError):
        parse_yuan(text)


def test_parse_yuan_refuses_float():
    with pytest.raises(MoneyError):
        parse_yuan(1.1)


@settings(max_examples=300, deadline=None)
@given(st.integers(-10**15, 10**15))
def test_format_and_parse_round_trip(fen):
    assert parse_yuan(format_yuan(fen)) == fen
    assert parse_yuan(format_yuan(fen, thousands=True)) == fen


def test_format_yuan_examples():
    assert format_yuan(4_500_000) == "45000.00"
    assert format_yuan(123456, thousands=True) == "1,234.56"
    assert format_yuan(-5) == "-0.05"


def test_apply_rate_rounds_half_up_to_the_fen():
    # 15% of 300,000 yuan = 45,000 yuan
    assert apply_rate(30_000_000, Decimal("0.15")) == 4_500_000
    assert apply_rate(5, Decimal("0.5")) == 3  # 2.5 fen → 3
    with pytest.raises(MoneyError):
        apply_rate(100, 0.15)
