"""The surplus maths, without a database. Expected figures are worked out by hand in the
comments, never by the code under test."""
from __future__ import annotations

from decimal import Decimal

import pytest

from coop.distribution.compute import (BY_SHARES, STATUTORY, DistributionError, MemberBasis,
                                       Rules, YearAccount, _keep_totals_within_a_fen,
                                       distribute)

# The worked example (domain.md, "The yearly surplus"): a 1.16 M yuan year.
#   revenue 3,000,000.00 yuan − cost 1,840,000.00 = surplus 1,160,000.00 yuan
#   = 116,000,000 fen; no prior loss; reserve 10% = 11,600,000; distributable 104,400,000.
#   Fiscal subsidy 50,000.00 yuan = 5,000,000 fen, quantified equally: 1,000,000 each.
COLLECTIVE, A, B, C, D = 1, 2, 3, 4, 5
ACCOUNT = YearAccount(revenue_fen=300_000_000, cost_fen=184_000_000, fiscal_subsidy_fen=5_000_000)
MEMBERS = [
    MemberBasis(COLLECTIVE, capital_fen=30_000_000),
    MemberBasis(A, capital_fen=15_000_000, trade_fen=30_000_000),
    MemberBasis(B, capital_fen=15_000_000, trade_fen=20_000_000),
    MemberBasis(C, capital_fen=10_000_000, trade_fen=10_000_000),
    MemberBasis(D, capital_fen=10_000_000),
]


def by_member(plan, field):
    return {line.member_id: getattr(line, field) for line in plan.lines}


def test_worked_example_statutory_by_hand():
    plan = distribute(ACCOUNT, Rules(STATUTORY, Decimal("0.10"), Decimal("0.60")), MEMBERS)
    assert (plan.surplus_fen, plan.reserve_fen, plan.distributable_fen) == (
        116_000_000, 11_600_000, 104_400_000)
    # patronage pool 60% × 104,400,000 = 62,640,000; share pool 41,760,000
    assert (plan.patronage_pool_fen, plan.share_pool_fen) == (62_640_000, 41_760_000)
    # trades 3 : 2 : 1 (of 60,000,000) → 31,320,000 / 20,880,000 / 10,440,000, exact
    assert by_member(plan, "patronage_fen") == {
        COLLECTIVE: 0, A: 31_320_000, B: 20_880_000, C: 10_440_000, D: 0}
    # share basis = capital + 1,000,000 subsidy share: 31M, 16M, 16M, 11M, 11M (of 85M).
    # 41,760,000 / 85 = 491,294 rem 10, so member w gets 491,294·w + floor(10w/85):
    #   31 → 15,230,117 rem 55; 16 → 7,860,705 rem 75; 11 → 5,404,235 rem 25.
    #   Floors sum to 41,759,997: the 3 fen go to the largest remainders A, B (75) and the
    #   collective (55).
    assert by_member(plan, "share_basis_fen") == {
        COLLECTIVE: 31_000_000, A: 16_000_000, B: 16_000_000, C: 11_000_000, D: 11_000_000}
    assert by_member(plan, "share_fen") == {
        COLLECTIVE: 15_230_118, A: 7_860_706, B: 7_860_706, C: 5_404_235, D: 5_404_235}
    assert by_member(plan, "total_fen") == {
        COLLECTIVE: 15_230_118, A: 39_180_706, B: 28_740_706, C: 15_844_235, D: 5_404_235}
    # Reserve quantified like the distribution: 11,600,000 / 104,400,000 = 1/9 of a total.
    #   15,230,118/9 = 1,692,235 r3; 39,180,706/9 = 4,353,411 r7; 28,740,706/9 = 3,193,411 r7;
    #   15,844,235/9 = 1,760,470 r5; 5,404,235/9 = 600,470 r5. Floors 11,599,997: the 3 fen
    #   go to A, B (r7) and C (r5, ties with D, lower id wins).
    assert by_member(plan, "reserve_share_fen") == {
        COLLECTIVE: 1_692_235, A: 4_353_412, B: 3_193_412, C: 1_760_471, D: 600_470}
    assert by_member(plan, "subsidy_share_fen") == dict.fromkeys((COLLECTIVE, A, B, C, D),
                                                                 1_000_000)


def test_worked_example_by_shares_by_hand():
    plan = distribute(ACCOUNT, Rules(BY_SHARES, Decimal("0.10")), MEMBERS)
    assert (plan.distributable_fen, plan.patronage_pool_fen, plan.share_pool_fen) == (
        104_400_000, 0, 104_400_000)
    # capital 30 : 15 : 15 : 10 : 10 (of 80M): 104,400,000 / 80 = 1,305,000 per million
    assert by_member(plan, "total_fen") == {
        COLLECTIVE: 39_150_000, A: 19_575_000, B: 19_575_000, C: 13_050_000, D: 13_050_000}
    assert set(by_member(plan, "patronage_fen").values()) == {0}
    # reserve = total / 9 exactly
    assert by_member(plan, "reserve_share_fen") == {
        COLLECTIVE: 4_350_000, A: 2_175_000, B: 2_175_000, C: 1_450_000, D: 1_450_000}


def test_prior_loss_is_covered_before_the_reserve():
    # 1,160,000 − 160,000 loss = 1,000,000 yuan; reserve 10% = 100,000; 900,000 left
    account = YearAccount(300_000_000, 184_000_000, prior_loss_fen=16_000_000)
    plan = distribute(account, Rules(BY_SHARES, Decimal("0.10")), MEMBERS)
    assert (plan.loss_covered_fen, plan.reserve_fen, plan.distributable_fen) == (
        16_000_000, 10_000_000, 90_000_000)


def test_reserve_rounds_half_up_and_patronage_pool_rounds_up():
    # surplus 15 fen: reserve 10% = 1.5 → 2 (half-up); distributable 13;
    # patronage 60% = 7.8 → 8 (never below 60%), share pool 5
    account = YearAccount(revenue_fen=15, cost_fen=0)
    plan = distribute(account, Rules(STATUTORY, Decimal("0.10")), MEMBERS)
    assert (plan.reserve_fen, plan.distributable_fen) == (2, 13)
    assert (plan.patronage_pool_fen, plan.share_pool_fen) == (8, 5)


@pytest.mark.parametrize("revenue, cost, loss", [
    (100, 100, 0),      # break-even
    (100, 250, 0),      # a loss year
    (500, 100, 400),    # the prior loss eats the whole surplus
    (500, 100, 900),    # the prior loss is larger than the surplus
])
def test_no_distributable_surplus_is_refused(revenue, cost, loss):
    with pytest.raises(DistributionError) as info:
        distribute(YearAccount(revenue, cost, loss), Rules(STATUTORY, Decimal("0.10")), MEMBERS)
    assert info.value.code == "NO_DISTRIBUTABLE_SURPLUS"


def test_full_reserve_leaves_nothing_to_distribute():
    with pytest.raises(DistributionError) as info:
        distribute(ACCOUNT, Rules(BY_SHARES, Decimal("1")), MEMBERS)
    assert info.value.code == "NO_DISTRIBUTABLE_SURPLUS"


def test_patronage_rate_below_sixty_percent_is_refused():
    with pytest.raises(DistributionError) as info:
        distribute(ACCOUNT, Rules(STATUTORY, Decimal("0.10"), Decimal("0.5999")), MEMBERS)
    assert info.value.code == "PATRONAGE_BELOW_MINIMUM"


def test_statutory_without_any_trade_is_refused_not_folded_into_shares():
    no_trades = [MemberBasis(m.member_id, capital_fen=m.capital_fen) for m in MEMBERS]
    with pytest.raises(DistributionError) as info:
        distribute(ACCOUNT, Rules(STATUTORY, Decimal("0.10")), no_trades)
    assert info.value.code == "NO_TRADE_VOLUME"


def test_by_shares_without_capital_is_refused():
    with pytest.raises(DistributionError) as info:
        distribute(ACCOUNT, Rules(BY_SHARES, Decimal("0.10")), [MemberBasis(1, trade_fen=5)])
    assert info.value.code == "NO_SHARE_BASIS"


def test_statutory_share_pool_without_basis_is_refused_but_full_patronage_is_fine():
    only_trade = [MemberBasis(1, trade_fen=5), MemberBasis(2, trade_fen=7)]
    account = YearAccount(1_000, 0)
    with pytest.raises(DistributionError) as info:
        distribute(account, Rules(STATUTORY, Decimal("0")), only_trade)
    assert info.value.code == "NO_SHARE_BASIS"
    plan = distribute(account, Rules(STATUTORY, Decimal("0"), Decimal("1")), only_trade)
    # 1,000 fen by trade 5 : 7 → 416.67 and 583.33 → 417 (largest remainder) and 583
    assert by_member(plan, "total_fen") == {1: 417, 2: 583}


def test_a_single_member_gets_everything():
    plan = distribute(ACCOUNT, Rules(STATUTORY, Decimal("0.10")),
                      [MemberBasis(7, capital_fen=1, trade_fen=1)])
    assert by_member(plan, "total_fen") == {7: 104_400_000}
    assert by_member(plan, "reserve_share_fen") == {7: 11_600_000}


def test_subsidy_is_quantified_equally_to_members_on_the_roll_only():
    members = [MemberBasis(1, capital_fen=10, trade_fen=10),
               MemberBasis(2, trade_fen=10, on_roll=False),     # left during the year
               MemberBasis(3, capital_fen=10, trade_fen=10)]
    plan = distribute(YearAccount(1_000, 0, fiscal_subsidy_fen=101),
                      Rules(STATUTORY, Decimal("0")), members)
    # 101 fen over two members on the roll: 50.5 each, the odd fen to the lower id
    assert by_member(plan, "subsidy_share_fen") == {1: 51, 2: 0, 3: 50}
    # the leaver still gets the patronage return on their trade: 600 / 3 = 200
    assert by_member(plan, "patronage_fen")[2] == 200
    assert by_member(plan, "share_fen")[2] == 0


def test_bad_inputs_are_refused_not_crashed():
    rules = Rules(STATUTORY, Decimal("0.10"))
    with pytest.raises(DistributionError):
        distribute(ACCOUNT, rules, [MemberBasis(1, trade_fen=-1)])
    with pytest.raises(DistributionError):
        distribute(ACCOUNT, rules, [MemberBasis(1, trade_fen=1), MemberBasis(1, trade_fen=1)])
    with pytest.raises(DistributionError):
        distribute(ACCOUNT, Rules("equal", Decimal("0.1")), MEMBERS)
    with pytest.raises(DistributionError):
        distribute(ACCOUNT, Rules(BY_SHARES, Decimal("0.1"), Decimal("0.6")), MEMBERS)
    with pytest.raises(DistributionError):
        distribute(ACCOUNT, Rules(STATUTORY, Decimal("1.5")), MEMBERS)


def test_member_order_does_not_change_the_plan():
    rules = Rules(STATUTORY, Decimal("0.07"), Decimal("0.65"))
    assert distribute(ACCOUNT, rules, MEMBERS) == distribute(ACCOUNT, rules, MEMBERS[::-1])


def test_controlled_rounding_keeps_each_total_within_a_fen_by_hand():
    # Three equal members, 1 fen in each pool: exact parts 1/3 each. Largest remainder
    # alone gives both fen to member 1 (ties → lowest key): total 2 against 2/3 exact.
    ids, weights = [1, 2, 3], [1, 1, 1]
    patronage, shares = [1, 0, 0], [1, 0, 0]
    _keep_totals_within_a_fen(1, weights, patronage, 1, weights, shares, ids)
    # Member 1 gives a fen to member 2 (the first of the members furthest below their
    # exact total), inside the patronage pool: totals 1, 1, 0 — each within 1 fen of 2/3.
    assert patronage == [0, 1, 0]
    assert shares == [1, 0, 0]
