"""A member's figures from distributions for the member account (Art. 43).

The share ledger's account endpoint calls `member_year_figures`; the distribution
capability fills these figures from approved plans.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

ACCOUNT_FIELDS = ("reserve_share_fen", "transaction_volume_fen", "subsidy_share_fen",
                  "distributions_received_fen")


def member_year_figures(session: Session, member_id: int, year: int | None) -> dict[str, int]:
    """{reserve_share_fen, transaction_volume_fen, subsidy_share_fen,
    distributions_received_fen} for one member (all years if `year` is None)."""
    return {field: 0 for field in ACCOUNT_FIELDS}
