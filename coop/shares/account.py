"""The member account (成员账户, Art. 43 of the cooperative law).

Contribution by kind comes from the share register; the reserve-fund share (公积金份额),
transaction volume (交易量), quantified subsidy share (财政补助量化份额) and the
distributions received come from the distribution capability and read zero until it
records them. The shape is final.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from coop.distribution.account import member_year_figures
from coop.registry.models import Member
from coop.shares.register import member_holding_as_of


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
