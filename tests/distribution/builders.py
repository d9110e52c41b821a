"""Test data for the yearly surplus: capital in the register, trades, annual accounts.

Register lines are written directly, the way the share ledger would have left them (then
its balances are rebuilt), so these tests do not depend on the share-operation endpoints.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from coop.distribution.models import AnnualAccount, Trade
from coop.shares.ledger import rebuild_balances
from coop.shares.models import ShareLine, ShareOperation, ShareRegisterHead


def give_capital(session, coop, holdings: dict, on: date = date(2020, 3, 1),
                 kind: str = "cash") -> None:
    """Subscribe `{member: fen}` (negative fen redeem) effective `on`."""
    line_no = session.execute(select(func.coalesce(func.max(ShareLine.line_no), 0)).where(
        ShareLine.cooperative_id == coop.id)).scalar_one()
    for member, fen in holdings.items():
        op = ShareOperation(county_id=coop.county_id, cooperative_id=coop.id,
                            member_id=member.id, type="subscribe" if fen > 0 else "redeem",
                            kind=kind, amount_fen=abs(fen), effective_on=on, status="approved")
        session.add(op)
        session.flush()
        line_no += 1
        session.add(ShareLine(county_id=coop.county_id, cooperative_id=coop.id, line_no=line_no,
                              member_id=member.id, operation_id=op.id, kind=kind,
                              delta_fen=fen, effective_on=on))
    head = session.get(ShareRegisterHead, coop.id)
    if head is None:
        session.add(ShareRegisterHead(cooperative_id=coop.id, last_line_no=line_no))
    else:
        head.last_line_no = line_no
    session.flush()
    rebuild_balances(session, coop.id)   # the ledger's projection of current holdings
    session.commit()


def give_trades(session, coop, year: int, amounts: dict, on: date | None = None) -> None:
    """One trade per member of `{member: fen}` in `year`."""
    for member, fen in amounts.items():
        session.add(Trade(county_id=coop.county_id, cooperative_id=coop.id, member_id=member.id,
                          year=year, amount_fen=fen, occurred_on=on or date(year, 6, 1)))
    session.commit()


def give_account(session, coop, year: int, revenue_fen: int, cost_fen: int,
                 prior_loss_fen: int = 0, fiscal_subsidy_fen: int = 0) -> AnnualAccount:
    account = AnnualAccount(county_id=coop.county_id, cooperative_id=coop.id, year=year,
                            revenue_fen=revenue_fen, cost_fen=cost_fen,
                            prior_loss_fen=prior_loss_fen, wages_paid_fen=0, labour_days=0,
                            fiscal_subsidy_fen=fiscal_subsidy_fen)
    session.add(account)
    session.commit()
    return account


def worked_example(make, session, method: str = "statutory"):
    """The domain's 1.16 M yuan year (see test_compute.py for the figures by hand):
    revenue 3,000,000 yuan, cost 1,840,000, fiscal subsidy 50,000; a village collective
    and four farmers A–D created in that order (ascending ids)."""
    coop = make.cooperative(distribution_method=method)
    collective = make.member(coop, name="东村村民委员会", member_type="collective")
    a, b, c, d = (make.member(coop, name=n) for n in ("张三丰", "李四", "王五妹", "赵六"))
    give_capital(session, coop, {collective: 30_000_000, a: 15_000_000, b: 15_000_000,
                                 c: 10_000_000, d: 10_000_000})
    give_trades(session, coop, 2024, {a: 30_000_000, b: 20_000_000, c: 10_000_000})
    give_account(session, coop, 2024, revenue_fen=300_000_000, cost_fen=184_000_000,
                 fiscal_subsidy_fen=5_000_000)
    return coop, collective, a, b, c, d


# ---- the governance road over HTTP ----------------------------------------------------

ADOPTING_VOTES = {"held_on": "2025-01-20", "basic_votes_total": 5, "extra_votes_total": 1,
                  "votes_for": 4, "votes_against": 1, "abstentions": 1}


def create_plan(client, headers, coop, year: int = 2024, **body):
    body = {"year": year, "reserve_rate": "0.10", **body}
    response = client.post(f"/api/v1/cooperatives/{coop.id}/distributions", json=body,
                           headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def act(client, headers, plan_id: int, action: str, body=None, status: int = 200):
    response = client.post(f"/api/v1/distributions/{plan_id}/{action}", json=body or {},
                           headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def approved_plan(client, headers, coop, year: int = 2024, **assembly):
    """A plan taken through submit, an adopting assembly, a 0-day notice and approval."""
    plan = create_plan(client, headers, coop, year)
    act(client, headers, plan["id"], "submit")
    act(client, headers, plan["id"], "record-assembly", {**ADOPTING_VOTES, **assembly})
    act(client, headers, plan["id"], "publish", {"notice_days": 0})
    return act(client, headers, plan["id"], "approve")


def two_years(make, session):
    """Members a and b with 1,000 fen of capital each; 2023: only a trades (100),
    revenue 2,000, subsidy 400; 2024: a 30 and b 10 in trades, revenue 1,000."""
    coop = make.cooperative()
    a, b = make.member(coop), make.member(coop)
    give_capital(session, coop, {a: 1_000, b: 1_000})
    give_trades(session, coop, 2023, {a: 100})
    give_trades(session, coop, 2024, {a: 30, b: 10})
    give_account(session, coop, 2023, revenue_fen=2_000, cost_fen=0, fiscal_subsidy_fen=400)
    give_account(session, coop, 2024, revenue_fen=1_000, cost_fen=0)
    return coop, a, b
