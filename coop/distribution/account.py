"""A member's figures from distributions for the member account (成员账户, Art. 43).

The share ledger's account endpoint calls `member_year_figures`. Reserve share, subsidy
share and distributions received come from the member's lines in approved (or paid)
plans only: a draft is a proposal, not an entry in anyone's account. Transaction volume
comes from the trades themselves, as they are recorded during the year.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coop.distribution.models import DONE_STATES, DistributionLine, DistributionPlan, Trade

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
