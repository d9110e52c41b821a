"""Properties of the surplus maths over random cooperatives (hypothesis).

For any cooperative (1–5,000 members, random capital, trades, balances, rates): the lines
add up exactly to the distributable surplus, the patronage pool is at least 60% under the
statutory method, every part is within one fen of its exact (Fraction) share, and the
result does not depend on the order the members come in.
"""
from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from coop.distribution.compute import (BY_SHARES, MIN_PATRONAGE_RATE, STATUTORY,
                                       DistributionError, MemberBasis, Rules, YearAccount,
                                       distribute)

FEN = st.integers(min_value=0, max_value=10**12)
rates = st.one_of(st.integers(0, 2_000), st.integers(0, 2_000), st.integers(0, 10_000)).map(
    lambda n: Decimal(n) / 10_000)
patronage_rates = st.integers(min_value=6_000, max_value=10_000).map(
    lambda n: Decimal(n) / 10_000)


def member_list(seed: int, count: int) -> list[MemberBasis]:
    """`count` members with ids spread out, some holding nothing, some off the roll."""
    rng = random.Random(seed)
    ids = rng.sample(range(1, 10 * count + 10), count)

    def amount():
        return rng.choice((0, rng.randint(1, 100), rng.randint(1, 10**9)))

    return [MemberBasis(member_id=i, capital_fen=amount(), trade_fen=amount(),
                        reserve_balance_fen=rng.choice((0, amount())),
                        subsidy_balance_fen=rng.choice((0, amount())),
                        on_roll=rng.random() < 0.9) for i in ids]


def check_plan(account: YearAccount, rules: Rules, members: list[MemberBasis]) -> None:
    try:
        plan = distribute(account, rules, members)
    except DistributionError as exc:
        event(f"refused {exc.code}")
        assert_refusal_is_justified(exc.code, account, rules, members)
        return
    event("plan")
    lines = plan.lines
    D = plan.distributable_fen
    # the pools, recomputed here from the account with exact fractions
    after_loss = max(account.revenue_fen - account.cost_fen, 0)
    after_loss = max(after_loss - account.prior_loss_fen, 0)
    assert abs(plan.reserve_fen - Fraction(after_loss) * Fraction(rules.reserve_rate)) <= \
        Fraction(1, 2)
    assert D == after_loss - plan.reserve_fen > 0
    assert sum(line.total_fen for line in lines) == D
    assert sum(line.patronage_fen for line in lines) == plan.patronage_pool_fen
    assert sum(line.share_fen for line in lines) == plan.share_pool_fen
    assert sum(line.reserve_share_fen for line in lines) == plan.reserve_fen
    if rules.method == STATUTORY:
        rate = rules.patronage_rate or MIN_PATRONAGE_RATE
        assert plan.patronage_pool_fen >= Fraction(D) * Fraction(MIN_PATRONAGE_RATE)
        assert 0 <= plan.patronage_pool_fen - Fraction(D) * Fraction(rate) < 1
    else:
        assert plan.patronage_pool_fen == 0
    T = sum(line.trade_fen for line in lines)
    W = sum(line.share_basis_fen for line in lines)
    for line in lines:
        exact_patronage = Fraction(plan.patronage_pool_fen * line.trade_fen, T) if T else 0
        exact_share = Fraction(plan.share_pool_fen * line.share_basis_fen, W) if W else 0
        assert abs(line.patronage_fen - exact_patronage) < 1
        assert abs(line.share_fen - exact_share) < 1
        assert abs(line.total_fen - (exact_patronage + exact_share)) < 1
        assert line.total_fen == line.patronage_fen + line.share_fen >= 0
        assert abs(line.reserve_share_fen - Fraction(plan.reserve_fen * line.total_fen, D)) < 1
    roll = [line for line, m in zip(lines, sorted(members, key=lambda m: m.member_id))
            if m.on_roll] or list(lines)
    if account.fiscal_subsidy_fen:
        equal = Fraction(account.fiscal_subsidy_fen, len(roll))
        assert all(abs(line.subsidy_share_fen - equal) < 1 for line in roll)
        assert sum(line.subsidy_share_fen for line in lines) == account.fiscal_subsidy_fen
    shuffled = list(members)
    random.Random(len(members)).shuffle(shuffled)
    assert distribute(account, rules, shuffled) == plan


def assert_refusal_is_justified(code, account, rules, members) -> None:
    after_loss = max(account.revenue_fen - account.cost_fen, 0) - account.prior_loss_fen
    if code == "NO_DISTRIBUTABLE_SURPLUS":   # nothing left, or a reserve that takes it all
        half_up = (Fraction(after_loss) * Fraction(rules.reserve_rate) + Fraction(1, 2)) // 1
        assert after_loss <= 0 or half_up >= after_loss
    elif code == "NO_TRADE_VOLUME":
        assert rules.method == STATUTORY and not any(m.trade_fen for m in members)
    elif code == "NO_SHARE_BASIS" and rules.method == BY_SHARES:
        assert not any(m.capital_fen for m in members)
    elif code == "NO_SHARE_BASIS":
        assert account.fiscal_subsidy_fen == 0 and not any(
            m.capital_fen or m.reserve_balance_fen or m.subsidy_balance_fen for m in members)
    else:
        raise AssertionError(f"unexpected refusal {code}")


@st.composite
def accounts(draw):
    """Mostly years with a surplus; some break-even, loss and loss-carried years."""
    cost = draw(FEN)
    surplus = draw(st.one_of(st.integers(1, 10**12), st.integers(1, 10**12),
                             st.integers(-10**6, 0)))
    return YearAccount(revenue_fen=max(cost + surplus, 0), cost_fen=cost,
                       prior_loss_fen=draw(st.one_of(st.just(0), st.just(0),
                                                     st.integers(0, 2 * max(surplus, 0)))),
                       fiscal_subsidy_fen=draw(st.one_of(st.just(0), FEN)))


rule_sets = st.one_of(
    st.builds(Rules, method=st.just(STATUTORY), reserve_rate=rates,
              patronage_rate=st.one_of(st.none(), patronage_rates)),
    st.builds(Rules, method=st.just(BY_SHARES), reserve_rate=rates))


@settings(max_examples=150, deadline=None)
@given(account=accounts(), rules=rule_sets, seed=st.integers(0, 2**32),
       count=st.integers(min_value=1, max_value=60))
def test_small_cooperatives_sum_exactly_within_a_fen_and_deterministic(account, rules, seed,
                                                                       count):
    check_plan(account, rules, member_list(seed, count))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(account=accounts(), rules=rule_sets, seed=st.integers(0, 2**32),
       count=st.integers(min_value=1, max_value=5_000))
def test_cooperatives_up_to_5000_members(account, rules, seed, count):
    check_plan(account, rules, member_list(seed, count))


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(account=accounts(), rules=rule_sets, seed=st.integers(0, 2**32),
       count=st.integers(min_value=4_000, max_value=5_000))
def test_big_run_of_large_cooperatives(account, rules, seed, count):
    check_plan(account, rules, member_list(seed, count))


@settings(max_examples=300, deadline=None)
@given(pool=st.integers(1, 50), seed=st.integers(0, 2**32), count=st.integers(1, 8))
def test_tiny_pools_where_rounding_dominates(pool, seed, count):
    # A few fen over a few members: every part is mostly rounding, the hardest case.
    rng = random.Random(seed)
    members = [MemberBasis(i + 1, capital_fen=rng.randint(0, 3), trade_fen=rng.randint(0, 3),
                           on_roll=rng.random() < .8) for i in range(count)]
    rules = Rules(STATUTORY, Decimal("0"), Decimal(rng.choice(("0.6", "0.61", "0.75"))))
    check_plan(YearAccount(pool, 0, fiscal_subsidy_fen=rng.randint(0, 9)), rules, members)
