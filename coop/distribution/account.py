"""The member account (成员账户, Art. 43 of the cooperative law).

Contribution by kind comes from the share register. Reserve share (公积金份额), subsidy
share (财政补助量化份额) and distributions received come from the member's lines in
approved (or paid) plans only: a draft is a proposal, not an entry in anyone's account.
Transaction volume (交易量) comes from the trades themselves, as they are recorded during
the year. It lives here, above the shares, because it reads both.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coop.distribution.models import DONE_STATES, DistributionLine, DistributionPlan, Trade
from coop.registry.models import Member
from coop.shares.register import member_holding_as_of

ACCOUNT_FIELDS = ("reserve_share_fen", "transaction_volume_fen", "subsidy_share_fen",
                  "distributions_received_fen")


def member_year_figures(session: Session, member_id: int, year: int | None) -> dict[str, int]:
    """{reserve_share_fen, transaction_volume_fen, subsidy_share_fen,
    distributions_received_fen} for one member (all years if `year` is None).

    distributions_received_fen is the member's whole allotment (total_fen), including
    any part the assembly converted into capital (Art. 44).
    """
    lines = (select(func.coalesce(func.sum(DistributionLine.reserve_share_fen), 0),
                    func.coalesce(func.sum(DistributionLine.subsidy_share_fen), 0),
                    func.coalesce(func.sum(DistributionLine.total_fen), 0))
             .join(DistributionPlan, DistributionPlan.id == DistributionLine.plan_id)
             .where(DistributionLine.member_id == member_id,
                    DistributionPlan.status.in_(DONE_STATES)))
    trades = select(func.coalesce(func.sum(Trade.amount_fen), 0)).where(
        Trade.member_id == member_id)
    if year is not None:
        lines = lines.where(DistributionPlan.year == year)
        trades = trades.where(Trade.year == year)
    reserve, subsidy, received = session.execute(lines).one()
    volume = session.execute(trades).scalar_one()
    return {"reserve_share_fen": int(reserve), "transaction_volume_fen": int(volume),
            "subsidy_share_fen": int(subsidy), "distributions_received_fen": int(received)}


def member_account(session: Session, member: Member, year: int | None, today: date) -> dict:
    """The member's account for `year` (contribution as of 31 December, or today for
    the current year), or their whole history with `year` None."""
    as_of = today if year is None else min(date(year, 12, 31), today)
    by_kind = member_holding_as_of(session, member.id, as_of)
    figures = member_year_figures(session, member.id, year)
    return {
        "member_id": member.id, "cooperative_id": member.cooperative_id, "name": member.name,
        "status": member.status, "year": year, "as_of": as_of,
        "contribution_fen": sum(by_kind.values()), "contribution_by_kind": by_kind,
        "reserve_share_fen": figures.get("reserve_share_fen", 0),
        "transaction_volume_fen": figures.get("transaction_volume_fen", 0),
        "subsidy_share_fen": figures.get("subsidy_share_fen", 0),
        "distributions_received_fen": figures.get("distributions_received_fen", 0),
    }
