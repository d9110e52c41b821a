"""Village collective income by year (the basis of the 15% rewards and the dashboard).

The income is exactly the figure the county enters (CONTRACT §10): one 'entered' row per
village and year. A year without that row has NO income figure — not zero — and a reward
round refuses to compute from it (REWARD_BASIS_INCOMPLETE). The dividends approved
plans paid to the village's collective member are shown beside the figure, never added.
Rows of source 'distribution' were written by the first wave (which added the dividend);
they are kept as history and count for nothing.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import coop.audit as audit
from coop.county.models import CollectiveIncomeItem
from coop.distribution.models import DistributionLine, DistributionPlan, PlanStatus
from coop.places.models import Village
from coop.registry.models import Cooperative
from coop.transaction import flush_or_conflict
from coop.validators import check_year

ENTERED = "entered"


def _entered(village_ids, years):
    return select(CollectiveIncomeItem.village_id, CollectiveIncomeItem.year,
                  CollectiveIncomeItem.amount_fen).where(
        CollectiveIncomeItem.village_id.in_(list(village_ids)),
        CollectiveIncomeItem.year.in_(list(years)),
        CollectiveIncomeItem.source == ENTERED)


def incomes(session: Session, village_ids, years) -> dict[tuple[int, int], int]:
    """{(village id, year): entered income in fen} for the figures that exist."""
    village_ids, years = list(village_ids), list(years)
    if not village_ids or not years:
        return {}
    return {(v, y): int(a) for v, y, a in session.execute(_entered(village_ids, years))}


def income_for_year(session: Session, village_id: int, year: int) -> int | None:
    """The village collective's income for `year` in fen, or None if none was entered."""
    return incomes(session, [village_id], [year]).get((village_id, year))


def dividends(session: Session, village_id: int) -> dict[int, int]:
    """{year: the dividends paid plans gave the village's collective member}, in fen:
    the collective's whole line (what it received and what it converted into capital)."""
    rows = session.execute(
        select(DistributionPlan.year, func.sum(DistributionLine.total_fen))
        .join(DistributionPlan, DistributionPlan.id == DistributionLine.plan_id)
        .join(Cooperative, Cooperative.id == DistributionLine.cooperative_id)
        .where(Cooperative.village_id == village_id, DistributionLine.is_collective,
               DistributionPlan.status == PlanStatus.PAID)
        .group_by(DistributionPlan.year)).all()
    return {int(year): int(total or 0) for year, total in rows}


def income_by_year(session: Session, village: Village) -> list[dict]:
    """GET /villages/{id}/collective-income: every year with a figure or a dividend."""
    entered = dict(session.execute(
        select(CollectiveIncomeItem.year, CollectiveIncomeItem.amount_fen).where(
            CollectiveIncomeItem.village_id == village.id,
            CollectiveIncomeItem.source == ENTERED)).all())
    paid = dividends(session, village.id)
    return [{"year": year, "amount_fen": entered.get(year),
             "cooperative_dividends_fen": paid.get(year, 0)}
            for year in sorted(set(entered) | set(paid), reverse=True)]


def income_breakdown(session: Session, village_id: int, year: int) -> list[CollectiveIncomeItem]:
    """The year's entered figure as a one-row list (empty if none was entered)."""
    return list(session.execute(
        select(CollectiveIncomeItem)
        .where(CollectiveIncomeItem.village_id == village_id, CollectiveIncomeItem.year == year,
               CollectiveIncomeItem.source == ENTERED)).scalars())


def set_entered_income(session: Session, actor, village: Village, year: int,
                       amount_fen: int) -> list[CollectiveIncomeItem]:
    """Store the county's figure of the village collective's income (村集体收入录入).

    There is one 'entered' row per village and year; a second PUT replaces its amount.
    """
    check_year(year)
    item = session.execute(select(CollectiveIncomeItem).where(
        CollectiveIncomeItem.village_id == village.id, CollectiveIncomeItem.year == year,
        CollectiveIncomeItem.source == ENTERED, CollectiveIncomeItem.source_id == 0)
    ).scalar_one_or_none()
    before = None if item is None else {"year": year, "amount_fen": item.amount_fen}
    if item is None:
        item = CollectiveIncomeItem(county_id=village.county_id, village_id=village.id,
                                    year=year, source=ENTERED, source_id=0,
                                    amount_fen=amount_fen, created_by=getattr(actor, "id", None))
        session.add(item)
    else:
        item.amount_fen = amount_fen
        item.created_by = getattr(actor, "id", None)
    flush_or_conflict(session, "该年度收入正被同时录入，请重试")
    audit.record(session, actor, "collective_income.enter", "village", village.id,
                 before=before, after={"year": year, "amount_fen": amount_fen})
    return income_breakdown(session, village.id, year)
