"""Computing draft plans over HTTP: figures, lines, who takes part, refusals."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from coop.distribution.models import DistributionLine
from tests.distribution.builders import (approved_plan, create_plan, give_account, give_capital,
                                         give_trades, two_years, worked_example)


@pytest.fixture
def example(make, db):
    coop, collective, a, b, c, d = worked_example(make, db.session)
    _, headers = make.login("coop_manager", coop)
    return coop, headers, (collective, a, b, c, d)


def lines_of(client, headers, plan_id) -> dict:
    body = client.get(f"/api/v1/distributions/{plan_id}/lines?per_page=100",
                      headers=headers).get_json()
    return {line["member_id"]: line for line in body["items"]}


def test_worked_example_over_http(client, example):
    coop, headers, (collective, a, b, c, d) = example
    plan = create_plan(client, headers, coop, patronage_rate="0.60")
    assert plan["status"] == "draft" and plan["method"] == "statutory"
    assert plan["reserve_rate"] == "0.10" and plan["patronage_rate"] == "0.60"
    # figures by hand in test_compute.py: 1,160,000.00 yuan, 10% reserve, 60% patronage
    assert {k: plan[k] for k in ("surplus_fen", "reserve_fen", "distributable_fen",
                                 "patronage_pool_fen", "share_pool_fen")} == {
        "surplus_fen": 116_000_000, "reserve_fen": 11_600_000,
        "distributable_fen": 104_400_000, "patronage_pool_fen": 62_640_000,
        "share_pool_fen": 41_760_000}
    lines = lines_of(client, headers, plan["id"])
    assert {m.id: lines[m.id]["total_fen"] for m in (collective, a, b, c, d)} == {
        collective.id: 15_230_118, a.id: 39_180_706, b.id: 28_740_706, c.id: 15_844_235,
        d.id: 5_404_235}
    assert lines[a.id]["patronage_fen"] == 31_320_000 and lines[a.id]["share_fen"] == 7_860_706
    assert lines[collective.id]["is_collective"] is True
    assert lines[a.id]["name"] == "张三丰"
    assert lines[c.id]["reserve_share_fen"] == 1_760_471
    assert lines[d.id]["subsidy_share_fen"] == 1_000_000


def test_by_shares_charter_distributes_everything_by_capital(client, make, db):
    coop, collective, a, b, c, d = worked_example(make, db.session, method="by_shares")
    _, headers = make.login("coop_manager", coop)
    plan = create_plan(client, headers, coop)
    assert plan["patronage_pool_fen"] == 0 and plan["patronage_rate"] is None
    lines = lines_of(client, headers, plan["id"])
    assert lines[collective.id]["total_fen"] == 39_150_000
    assert lines[a.id]["total_fen"] == 19_575_000
    response = client.post(f"/api/v1/cooperatives/{coop.id}/distributions",
                           json={"year": 2024, "reserve_rate": "0.10", "patronage_rate": "0.6"},
                           headers=headers)
    assert response.status_code == 422


def test_lines_are_paginated(client, example):
    coop, headers, members = example
    plan = create_plan(client, headers, coop)
    page = client.get(f"/api/v1/distributions/{plan['id']}/lines?per_page=2&page=3",
                      headers=headers).get_json()
    assert page["total"] == 5 and page["page"] == 3 and len(page["items"]) == 1
    assert client.get(f"/api/v1/distributions/{plan['id']}/lines?per_page=101",
                      headers=headers).status_code == 422


def test_one_live_plan_per_year_until_cancelled(client, example):
    coop, headers, _ = example
    first = create_plan(client, headers, coop)
    response = client.post(f"/api/v1/cooperatives/{coop.id}/distributions",
                           json={"year": 2024, "reserve_rate": "0.10"}, headers=headers)
    assert response.status_code == 409
    client.post(f"/api/v1/distributions/{first['id']}/cancel", json={}, headers=headers)
    second = create_plan(client, headers, coop, reserve_rate="0.05")
    assert second["reserve_fen"] == 5_800_000
    listing = client.get(f"/api/v1/cooperatives/{coop.id}/distributions",
                         headers=headers).get_json()
    assert [p["status"] for p in listing["items"]] == ["draft", "cancelled"]


@pytest.mark.parametrize("body, code", [
    ({"year": 2024, "reserve_rate": "0.10", "patronage_rate": "0.59"},
     "PATRONAGE_BELOW_MINIMUM"),
    ({"year": 2024, "reserve_rate": 0.1}, "VALIDATION_FAILED"),          # a float rate
    ({"year": 2024, "reserve_rate": "1.5"}, "VALIDATION_FAILED"),
    ({"year": 2024, "reserve_rate": "0.1", "extra": 1}, "VALIDATION_FAILED"),
    ({"year": 2023, "reserve_rate": "0.10"}, "YEAR_ACCOUNTS_MISSING"),
    ({"year": 1900, "reserve_rate": "0.10"}, "VALIDATION_FAILED"),
    ({"year": 2024, "reserve_rate": "1"}, "NO_DISTRIBUTABLE_SURPLUS"),
])
def test_refused_plans_are_422_with_a_code(client, example, body, code):
    coop, headers, _ = example
    response = client.post(f"/api/v1/cooperatives/{coop.id}/distributions", json=body,
                           headers=headers)
    assert response.status_code == 422
    assert response.get_json()["code"] == code


def test_loss_year_and_no_trades_are_refused(client, make, db):
    coop = make.cooperative()
    member = make.member(coop)
    _, headers = make.login("coop_manager", coop)
    give_capital(db.session, coop, {member: 1_000})
    give_account(db.session, coop, 2024, revenue_fen=100, cost_fen=50, prior_loss_fen=80)
    give_account(db.session, coop, 2025, revenue_fen=100, cost_fen=50)
    url = f"/api/v1/cooperatives/{coop.id}/distributions"
    loss = client.post(url, json={"year": 2024, "reserve_rate": "0.10"}, headers=headers)
    assert loss.get_json()["code"] == "NO_DISTRIBUTABLE_SURPLUS"
    no_trade = client.post(url, json={"year": 2025, "reserve_rate": "0.10"}, headers=headers)
    assert no_trade.get_json()["code"] == "NO_TRADE_VOLUME"


def test_who_takes_part_joiners_leavers_and_members_holding_nothing(client, make, db):
    coop = make.cooperative()
    stays = make.member(coop, name="留下")
    left = make.member(coop, name="退出", left_on=date(2024, 8, 1), status="left")
    idle = make.member(coop, name="新入")                       # on the roll, holds nothing
    late = make.member(coop, name="次年", joined_on=date(2025, 2, 1))
    _, headers = make.login("coop_manager", coop)
    give_capital(db.session, coop, {stays: 10_000, left: 10_000})
    give_capital(db.session, coop, {left: -10_000}, on=date(2024, 8, 1))  # redeemed on leaving
    give_trades(db.session, coop, 2024, {stays: 300, left: 100})
    give_account(db.session, coop, 2024, revenue_fen=10_000, cost_fen=0,
                 fiscal_subsidy_fen=1_000)
    plan = create_plan(client, headers, coop, reserve_rate="0")
    lines = lines_of(client, headers, plan["id"])
    assert set(lines) == {stays.id, left.id, idle.id}            # the late joiner is out
    # patronage 6,000 by trade 3 : 1 → 4,500 and 1,500; the leaver keeps theirs
    assert lines[left.id]["patronage_fen"] == 1_500
    # subsidy 1,000 equally to the two on the roll; none for the leaver
    assert [lines[m.id]["subsidy_share_fen"] for m in (stays, left, idle)] == [500, 0, 500]
    # share pool 4,000 by basis stays 10,500 : idle 500 → 3,818.18 and 181.82
    assert [lines[m.id]["share_fen"] for m in (stays, left, idle)] == [3_818, 0, 182]
    assert late.id not in lines


def test_balances_brought_forward_weigh_in_the_next_years_share_pool(client, make, db):
    coop, a, b = two_years(make, db.session)
    _, headers = make.login("coop_manager", coop)
    approved_plan(client, headers, coop, 2023)   # 2023: reserve 200, all of a's patronage
    year_2023 = {line.member_id: line for line in db.session.execute(
        select(DistributionLine)).scalars()}
    # 2023: distributable 1,800; patronage 1,080 all to a; share 720 by 1,200 : 1,200.
    # a total 1,440, b 360 → reserve 200 split 160 / 40; subsidy 200 each.
    assert (year_2023[a.id].reserve_share_fen, year_2023[b.id].reserve_share_fen) == (160, 40)
    plan = create_plan(client, headers, coop, year=2024)
    lines = lines_of(client, headers, plan["id"])
    # 2024 basis: capital 1,000 + reserve b/f + subsidy b/f 200
    assert lines[a.id]["share_basis_fen"] == 1_000 + 160 + 200
    assert lines[b.id]["share_basis_fen"] == 1_000 + 40 + 200


def test_capital_is_read_as_of_31_december_whatever_the_register_did_later(db, make):
    """The basis reads capital from the balances less the lines dated after 31 December
    (one query with the rest of the basis); it must agree with the register's own as-of
    reading, including members whose capital came or went only after the year."""
    from coop.distribution.services import gather_basis
    from coop.shares.register import member_totals_as_of
    coop = make.cooperative()
    kept, topped_up, redeemed, newcomer = (make.member(coop) for _ in range(4))
    gone = make.member(coop, left_on=date(2025, 3, 1), status="left")
    give_capital(db.session, coop, {kept: 1_000, topped_up: 2_000, redeemed: 3_000,
                                    gone: 4_000}, on=date(2023, 5, 1))
    give_capital(db.session, coop, {topped_up: 500, redeemed: -1_000}, on=date(2024, 12, 31))
    give_capital(db.session, coop, {topped_up: 7_000, redeemed: -2_000, newcomer: 9_000,
                                    gone: -4_000}, on=date(2025, 1, 1))
    give_capital(db.session, coop, {kept: 300}, on=date(2026, 6, 30), kind="land")
    basis, _ = gather_basis(db.session, coop, 2024)
    held = {m.member_id: m.capital_fen for m in basis}
    assert held == {kept.id: 1_000, topped_up.id: 2_500, redeemed.id: 2_000,
                    newcomer.id: 0, gone.id: 4_000}
    assert {m: fen for m, fen in held.items() if fen} == member_totals_as_of(
        db.session, coop.id, date(2024, 12, 31))
    assert all(m.on_roll is True for m in basis)   # gone left in 2025: on the 2024 roll


def test_the_basis_digest_hashes_the_same_text_as_ever():
    """A draft stores its basis digest and approval recomputes it: the hashed text must
    stay byte for byte what it was when older drafts were made, whatever the code does
    to compute it faster."""
    import hashlib
    from types import SimpleNamespace

    from coop.distribution.compute import MemberBasis
    from coop.distribution.services import basis_digest
    account = SimpleNamespace(revenue_fen=1_000, cost_fen=200, prior_loss_fen=0,
                              wages_paid_fen=5, labour_days=3, fiscal_subsidy_fen=40)
    basis = [MemberBasis(9, 100, 0, 0, 7, False), MemberBasis(2, 50, 30, 1, 0, True)]
    text = "(1000, 200, 0, 5, 3, 40)\n2,50,30,1,0,1\n9,100,0,0,7,0"
    assert basis_digest(account, basis) == hashlib.sha256(text.encode()).hexdigest()
