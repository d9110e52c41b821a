"""Village collective income by year (the basis of the 15% rewards and the dashboard)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coop import audit
from coop.county.models import CollectiveIncomeItem
from coop.places.models import Village


def add_distribution_income(session: Session, actor, village: Village, year: int,
                            amount_fen: int, payout_line_id: int) -> CollectiveIncomeItem:
    """Record the collective member's distribution line as that year's income.

    Called in the caller's transaction when a distribution's payout batch is created.
    Idempotent per payout line (unique key), so a retry never counts it twice.
    """
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
