"""Village collective income by year (the basis of the 15% rewards and the dashboard)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import coop.audit as audit
from coop.county.models import CollectiveIncomeItem
from coop.places.models import Village
from coop.transaction import flush_or_conflict
from coop.validators import check_year


def record_collective_dividend(session: Session, actor, village_id: int, year: int,
                               amount_fen: int, payout_line_id: int) -> CollectiveIncomeItem:
    """Record the collective member's distribution line as that year's village income.

    The hook distribution/payout.py calls in its transaction when a plan's payout batch is
    created (create_app plugs it in). Idempotent per payout line (unique key), so a
    retry never counts it twice.
    """
    village = session.get(Village, village_id)
    existing = session.execute(select(CollectiveIncomeItem).where(
        CollectiveIncomeItem.village_id == village.id, CollectiveIncomeItem.year == year,
        CollectiveIncomeItem.source == "distribution",
        CollectiveIncomeItem.source_id == payout_line_id)).scalar_one_or_none()
    if existing is not None:
        return existing
    item = CollectiveIncomeItem(county_id=village.county_id, village_id=village.id, year=year,
                                source="distribution", source_id=payout_line_id,
                                amount_fen=amount_fen, created_by=getattr(actor, "id", None))
    session.add(item)
    session.flush()
    audit.record(session, actor, "collective_income.add", "village", village.id,
                 after={"year": year, "source": "distribution", "amount_fen": amount_fen,
                        "payout_line_id": payout_line_id})
    return item


def income_for_year(session: Session, village_id: int, year: int) -> int:
    """The village collective's income for `year`, in fen (sum of its breakdown)."""
    total = session.execute(select(func.coalesce(func.sum(CollectiveIncomeItem.amount_fen), 0))
                            .where(CollectiveIncomeItem.village_id == village_id,
                                   CollectiveIncomeItem.year == year)).scalar_one()
    return int(total)


def income_breakdown(session: Session, village_id: int, year: int) -> list[CollectiveIncomeItem]:
    """The rows that make up the year's income: the entered figure and distribution lines."""
    return list(session.execute(
        select(CollectiveIncomeItem)
        .where(CollectiveIncomeItem.village_id == village_id, CollectiveIncomeItem.year == year)
        .order_by(CollectiveIncomeItem.source.desc(), CollectiveIncomeItem.source_id,
                  CollectiveIncomeItem.id)).scalars())


def set_entered_income(session: Session, actor, village: Village, year: int,
                       amount_fen: int) -> list[CollectiveIncomeItem]:
    """Store the county's figure of the village collective's income (村集体收入录入).

    There is one 'entered' row per village and year; a second PUT replaces its amount.
    Distribution-fed rows are never touched. Returns the year's breakdown.
    """
    check_year(year)
    item = session.execute(select(CollectiveIncomeItem).where(
        CollectiveIncomeItem.village_id == village.id, CollectiveIncomeItem.year == year,
        CollectiveIncomeItem.source == "entered", CollectiveIncomeItem.source_id == 0)
    ).scalar_one_or_none()
    before = None if item is None else {"year": year, "amount_fen": item.amount_fen}
    if item is None:
        item = CollectiveIncomeItem(county_id=village.county_id, village_id=village.id,
                                    year=year, source="entered", source_id=0,
                                    amount_fen=amount_fen, created_by=getattr(actor, "id", None))
        session.add(item)
    else:
        item.amount_fen = amount_fen
        item.created_by = getattr(actor, "id", None)
    flush_or_conflict(session, "该年度收入正被同时录入，请重试")
    audit.record(session, actor, "collective_income.enter", "village", village.id,
                 before=before, after={"year": year, "amount_fen": amount_fen})
    return income_breakdown(session, village.id, year)
