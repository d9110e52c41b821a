"""The domain's worked examples (domain.md, "Capital and shares"), figures by hand."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from coop.shares.register import member_totals_as_of, register_as_of
from tests.shares.conftest import FOUNDED


def test_a_family_puts_in_6_5_mu_of_land_and_2000_yuan(ledger):
    # Dongyuantou: 1 yuan = 1 share, 1 mu = 8,000 shares → 8,000 yuan = 800,000 fen per mu.
    family = ledger.member(name="王建国")
    land = ledger.done("subscribe", family, "land", area_mu=Decimal("6.5"))
    ledger.done("subscribe", family, "cash", amount_fen=200_000)
    assert land.amount_fen == 5_200_000          # 6.5 × 800,000 fen
    register = register_as_of(ledger.session, ledger.coop, FOUNDED)
    (row,) = register["members"]
    assert row["by_kind"] == {"cash": 200_000, "land": 5_200_000, "collective_asset": 0,
                              "fiscal_subsidy": 0, "labour": 0}
    assert row["total_fen"] == 5_400_000         # 54,000 yuan = 54,000 shares
    assert register["total_fen"] == 5_400_000
    assert row["ratio"] == "1.0000"


def test_land_value_is_rounded_half_up_to_the_fen(db, make):
    from tests.shares.conftest import Ledger
    ledger = Ledger(db, make, land_rate_fen_per_mu=250)
    member = ledger.member()
    op = ledger.submit("subscribe", member, "land", area_mu=Decimal("0.01"))
    assert op.amount_fen == 3                     # 0.01 × 250 = 2.5 fen → 3 (half-up)
    op = ledger.submit("subscribe", member, "land", area_mu=Decimal("0.03"))
    assert op.amount_fen == 8                     # 7.5 fen → 8


def test_labour_tickets_are_valued_at_the_charter_rate(ledger):
    # Yijia village: 2,000 yuan of labour tickets = one share; the factory's charter
    # values one ticket at 200,000 fen.
    worker = ledger.member()
    op = ledger.done("subscribe", worker, "labour", tickets=3)
    assert op.amount_fen == 600_000
    assert member_totals_as_of(ledger.session, ledger.coop.id, FOUNDED) == {worker.id: 600_000}


def test_the_collective_share_is_not_capped_unless_the_charter_says_so(ledger):
    collective = ledger.member(name="某村股份经济合作社", member_type="collective")
    farmers = [ledger.member() for _ in range(5)]
    for farmer in farmers:
        ledger.done("subscribe", farmer, amount_fen=100_000)
    ledger.done("subscribe", collective, "collective_asset", amount_fen=1_000_000)
    register = register_as_of(ledger.session, ledger.coop, FOUNDED)
    by_member = {row["member_id"]: row for row in register["members"]}
    assert register["total_fen"] == 1_500_000
    assert by_member[collective.id]["ratio"] == "0.6667"   # 1,000,000 / 1,500,000
    assert by_member[farmers[0].id]["ratio"] == "0.0667"   # 100,000 / 1,500,000


def test_the_collective_share_is_capped_when_the_charter_applies_the_cap(db, make):
    from tests.shares.conftest import Ledger
    ledger = Ledger(db, make, collective_cap_applies=True)
    collective = ledger.member(member_type="collective")
    for _ in range(5):
        ledger.done("subscribe", ledger.member(), amount_fen=100_000)
    op = ledger.submit("subscribe", collective, "collective_asset", amount_fen=1_000_000)
    assert ledger.refused(ledger.approve, op) == "SINGLE_MEMBER_CAP_EXCEEDED"
    # 125,000 of 625,000 is exactly 20%: allowed
    ledger.done("subscribe", collective, "collective_asset", amount_fen=125_000)


def test_one_fen_over_twenty_percent_is_refused_once_five_members_hold_capital(ledger):
    members = [ledger.member() for _ in range(5)]
    for member in members:
        ledger.done("subscribe", member, amount_fen=100_000)   # each exactly 20%
    op = ledger.submit("subscribe", members[0], amount_fen=1)
    # 100,001 / 500,001 > 0.20  ⇔  100,001 × 5 = 500,005 > 500,001
    assert ledger.refused(ledger.approve, op) == "SINGLE_MEMBER_CAP_EXCEEDED"


def test_a_founding_register_with_fewer_than_five_holders_is_not_capped(ledger):
    first, second = ledger.member(), ledger.member()
    ledger.done("subscribe", first, amount_fen=900_000)
    ledger.done("subscribe", second, amount_fen=100_000)
    assert member_totals_as_of(ledger.session, ledger.coop.id, FOUNDED) == {
        first.id: 900_000, second.id: 100_000}


def test_back_dated_subscription_is_capped_on_later_dates_too(ledger):
    d1, d2, d3 = date(2024, 2, 1), date(2024, 3, 1), date(2024, 4, 1)
    a, *others = [ledger.member() for _ in range(6)]
    for member in [a, *others]:
        ledger.done("subscribe", member, amount_fen=100_000, on=d1)
    ledger.done("redeem", others[-1], amount_fen=100_000, on=d3)   # five left at 20% each
    op = ledger.submit("subscribe", a, amount_fen=20_000, on=d2)
    # On d2: 120,000 / 620,000 = 19.4% is fine; on d3: 120,000 / 520,000 = 23.1% is not.
    assert ledger.refused(ledger.approve, op) == "SINGLE_MEMBER_CAP_EXCEEDED"


def test_ratio_is_rounded_half_up_to_four_places(ledger):
    a, b, c = ledger.member(), ledger.member(), ledger.member()
    ledger.done("subscribe", a, amount_fen=1)
    ledger.done("subscribe", b, amount_fen=1)
    ledger.done("subscribe", c, amount_fen=1)
    rows = register_as_of(ledger.session, ledger.coop, FOUNDED)["members"]
    assert [row["ratio"] for row in rows] == ["0.3333", "0.3333", "0.3333"]
    ledger.done("subscribe", c, amount_fen=6)    # 1/9 = 0.1111…, 7/9 = 0.7777… → 0.7778
    rows = register_as_of(ledger.session, ledger.coop, FOUNDED)["members"]
    assert [row["ratio"] for row in rows] == ["0.1111", "0.1111", "0.7778"]
