"""Reading the register: holdings by member and kind as of a date.

One grouped SUM over the covering index (cooperative, effective_on, member, kind, delta),
so the as-of register never loads individual lines.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coop.shares.models import ShareLine


def holdings_as_of(session: Session, cooperative_id: int, as_of: date) -> dict[int, dict[str, int]]:
    """{member_id: {kind: fen}} of every member with a non-zero holding on `as_of`."""
    rows = session.execute(
        select(ShareLine.member_id, ShareLine.kind, func.sum(ShareLine.delta_fen))
        .where(ShareLine.cooperative_id == cooperative_id, ShareLine.effective_on <= as_of)
        .group_by(ShareLine.member_id, ShareLine.kind)
    ).all()
    holdings: dict[int, dict[str, int]] = defaultdict(dict)
    for member_id, kind, total in rows:
        if total:
            holdings[member_id][kind] = int(total)
    return dict(holdings)


def member_totals_as_of(session: Session, cooperative_id: int, as_of: date) -> dict[int, int]:
    """{member_id: total fen} of members holding capital on `as_of`."""
    return {m: sum(k.values()) for m, k in holdings_as_of(session, cooperative_id, as_of).items()
            if sum(k.values())}
