"""The ledger's pure arithmetic against exact fractions (no database)."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coop.shares import rules

fen = st.integers(min_value=0, max_value=10**17)
rates = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1"), places=4)


def half_up(value: Fraction) -> int:
    return int(value + Fraction(1, 2)) if value >= 0 else -int(-value + Fraction(1, 2))


@given(area=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2),
       rate=st.integers(min_value=0, max_value=10**9))
def test_land_value_is_area_times_rate_rounded_half_up(area, rate):
    assert rules.land_value_fen(area, rate) == half_up(Fraction(area) * rate)


def test_land_value_refuses_floats():
    with pytest.raises(TypeError):
        rules.land_value_fen(6.5, 800_000)


@given(holding=fen, total=st.integers(min_value=1, max_value=10**17), rate=rates)
def test_exceeds_rate_matches_exact_fractions(holding, total, rate):
    assert rules.exceeds_rate(holding, total, rate) == (Fraction(holding, total) > Fraction(rate))


@given(data=st.data())
def test_ratio_string_is_the_exact_ratio_rounded_half_up(data):
    total = data.draw(st.integers(min_value=1, max_value=10**17))
    holding = data.draw(st.integers(min_value=0, max_value=total))
    text = rules.ratio_string(holding, total)
    assert Decimal(text) == Decimal(half_up(Fraction(holding, total) * 10**4)) / 10**4
    assert len(text.split(".")[1]) == 4


def test_ratio_string_examples():
    assert rules.ratio_string(1, 3) == "0.3333"
    assert rules.ratio_string(2, 3) == "0.6667"
    assert rules.ratio_string(1, 20_000) == "0.0001"    # 0.00005 rounds half up
    assert rules.ratio_string(5, 5) == "1.0000"
    assert rules.ratio_string(0, 0) == "0.0000"


totals = st.dictionaries(st.integers(1, 9), st.integers(0, 10**6), max_size=9)


@settings(max_examples=300)
@given(before=totals, change=totals, exempt=st.sets(st.integers(1, 9)), rate=rates)
def test_cap_breaches_are_new_or_worsened_breaches(before, change, exempt, rate):
    after = {m: before.get(m, 0) + change.get(m, 0) for m in before.keys() | change.keys()}

    def over(register):
        holders = {m: v for m, v in register.items() if v > 0}
        if len(holders) < 5:
            return {}
        whole = sum(holders.values())
        return {m: Fraction(v, whole) for m, v in holders.items()
                if m not in exempt and Fraction(v, whole) > Fraction(rate)}

    was, now = over(before), over(after)
    expected = {m for m, share in now.items() if m not in was or share > was[m]}
    assert rules.cap_breaches(before, after, exempt, rate) == expected


def test_four_holders_are_never_over_the_cap():
    assert rules.over_cap({1: 97, 2: 1, 3: 1, 4: 1}, set(), Decimal("0.20")) == set()
    assert rules.over_cap({1: 96, 2: 1, 3: 1, 4: 1, 5: 1}, set(), Decimal("0.20")) == {1}
    assert rules.over_cap({1: 96, 2: 1, 3: 1, 4: 1, 5: 1}, {1}, Decimal("0.20")) == set()


def test_lowest_balance_walks_later_changes():
    assert rules.lowest_balance(100, [-30, -80, +50]) == -10
    assert rules.lowest_balance(5, []) == 5


changes = st.dictionaries(st.integers(1, 9), st.integers(-10**6, 10**6), max_size=3)


@settings(max_examples=500)
@given(before=totals, change=changes, exempt=st.sets(st.integers(1, 9)), rate=rates)
def test_the_changed_members_shortcut_agrees_with_the_whole_register(before, change, exempt,
                                                                      rate):
    after = {m: max(0, before.get(m, 0) + change.get(m, 0))
             for m in before.keys() | change.keys()}
    positive = lambda register: [v for v in register.values() if v > 0]  # noqa: E731
    fast = rules.breaches_among_changed(
        {m: before.get(m, 0) for m in change}, {m: after[m] for m in change},
        sum(positive(before)), sum(positive(after)), len(positive(before)),
        len(positive(after)), exempt, rate)
    if fast is not None:
        assert fast == rules.cap_breaches(before, after, exempt, rate)


@settings(max_examples=300)
@given(opening=totals, change=changes, exempt=st.sets(st.integers(1, 9)), rate=rates,
       later=st.lists(st.lists(st.tuples(st.integers(1, 9), st.integers(-10**6, 10**6)),
                               min_size=1, max_size=4), max_size=6))
def test_the_date_by_date_walk_finds_the_first_breach_the_full_check_finds(
        opening, change, exempt, rate, later):
    days = list(enumerate(later, start=1))
    expected, held = None, dict(opening)
    for day, moves in [(0, [])] + days:
        for member, delta in moves:
            held[member] = held.get(member, 0) + delta
        after = {m: held.get(m, 0) + change.get(m, 0) for m in held.keys() | change.keys()}
        found = rules.cap_breaches(held, after, exempt, rate)
        if found:
            expected = (day, found)
            break
    assert rules.first_cap_breach(0, opening, days, change, exempt, rate) == expected


# Eight members who hold capital throughout and only ever gain: with at most three
# changed members the cap applies on every date, before and after the operation.
STEADY = range(101, 109)


@settings(max_examples=300)
@given(data=st.data(), rate=rates, exempt=st.sets(st.integers(1, 9)),
       change=st.dictionaries(st.integers(1, 9), st.integers(-10**6, 10**6), max_size=3))
def test_the_changed_members_walk_agrees_with_the_whole_register_walk(data, rate, exempt,
                                                                      change):
    """first_breach_among_changed (the ledger's shortcut for back-dated operations that
    do not shrink the capital) finds what first_cap_breach finds over the whole register."""
    if sum(change.values()) < 0:
        change = {m: -v for m, v in change.items()}
    steady = {m: data.draw(st.integers(1, 10**6)) for m in STEADY}
    others = data.draw(st.dictionaries(st.integers(1, 9), st.integers(0, 10**6), max_size=9))
    opening = steady | others
    days, held = [], dict(opening)
    for day in range(1, data.draw(st.integers(0, 6)) + 1):
        moves = data.draw(st.lists(st.tuples(st.sampled_from([*range(1, 10), *STEADY]),
                                             st.integers(-10**6, 10**6)), min_size=1,
                                   max_size=4))
        kept = []
        for member, delta in moves:
            if member in STEADY:
                delta = abs(delta)           # steady members never lose capital
            delta = max(delta, -held.get(member, 0))     # no holding below zero
            held[member] = held.get(member, 0) + delta
            kept.append((member, delta))
        days.append((day, kept))
    # the operation may not leave a holding below zero on any date either
    lowest = dict(opening)
    held = dict(opening)
    for _day, moves in days:
        for member, delta in moves:
            held[member] = held.get(member, 0) + delta
            lowest[member] = min(lowest.get(member, 0), held[member])
    change = {m: max(v, -lowest.get(m, 0)) for m, v in change.items()}
    if sum(change.values()) < 0:
        return
    expected = rules.first_cap_breach(0, opening, days, change, exempt, rate)
    later = [(day, sum(d for _m, d in moves), [(m, d) for m, d in moves if m in change])
             for day, moves in days]
    found = rules.first_breach_among_changed(
        0, {m: opening.get(m, 0) for m in change}, sum(opening.values()), later, change,
        exempt, rate)
    assert found == expected
