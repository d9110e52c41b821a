"""Self-service for a member (成员自助查询): their shares, payouts and member account.

The member records are the ones the caller's `member` role grants name; a person who is
a member of two cooperatives holds two grants and sees both. The figures come from the
shares capability (register, member account), read-only.
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from coop.pagination import PageQuery
from coop.payouts.models import PayoutLine
from coop.registry.models import Cooperative, Member
from coop.distribution.account import member_account
from coop.shares.register import lines_query, member_holding_as_of, member_totals_as_of
from coop.shares.rules import ratio_string


def members_of(session: Session, member_ids) -> list[tuple[Member, str]]:
    """(member, cooperative name) for the granted ids that still exist, by id."""
    if not member_ids:
        return []
    return [tuple(row) for row in session.execute(
        select(Member, Cooperative.name)
        .join(Cooperative, Cooperative.id == Member.cooperative_id)
        .where(Member.id.in_(sorted(set(member_ids)))).order_by(Member.id)).all()]


def my_shares(session: Session, members: list[tuple[Member, str]], as_of: date) -> dict:
    """Per membership: holding by kind on `as_of`, its ratio of the cooperative's capital
    (4 places, half-up) and the member's numbered register lines."""
    items = []
    for member, coop_name in members:
        by_kind = member_holding_as_of(session, member.id, as_of)
        total = sum(by_kind.values())
        capital = sum(member_totals_as_of(session, member.cooperative_id, as_of).values())
        lines = session.execute(lines_query(member.cooperative_id, member.id)).all()
        items.append({
            "member_id": member.id, "cooperative_id": member.cooperative_id,
            "cooperative_name": coop_name, "name": member.name, "status": member.status,
            "by_kind": by_kind, "total_fen": total, "ratio": ratio_string(total, capital),
            "lines": [{"line_no": line.line_no, "member_id": line.member_id,
                       "operation_id": line.operation_id, "operation_type": op_type,
                       "kind": line.kind, "delta_fen": line.delta_fen,
                       "effective_on": line.effective_on, "created_at": line.created_at}
                      for line, op_type in lines],
        })
    return {"as_of": as_of, "items": items}


def my_payouts(session: Session, member_ids, page: int, per_page: int,
               year: int | None = None) -> dict:
    """The member's payout lines, newest first, one page at a time."""
    result = _my_payouts(year is not None).page(
        session, page, per_page, {"member_ids": sorted(set(member_ids)) or [0], "year": year})
    result["items"] = [row._asdict() for row in result["items"]]
    return result


@lru_cache(maxsize=None)
def _my_payouts(by_year: bool) -> PageQuery:
    """The list's statements, with or without its year filter, built once."""
    stmt = (select(PayoutLine.id, PayoutLine.batch_id, PayoutLine.member_id,
                   PayoutLine.cooperative_id, Cooperative.name.label("cooperative_name"),
                   PayoutLine.source, PayoutLine.year, PayoutLine.amount_fen,
                   PayoutLine.status, PayoutLine.bank_name, PayoutLine.bank_account_masked,
                   PayoutLine.bank_ref, PayoutLine.paid_on, PayoutLine.reverses_id)
            .outerjoin(Cooperative, Cooperative.id == PayoutLine.cooperative_id)
            .where(PayoutLine.member_id.in_(bindparam("member_ids", expanding=True)))
            .order_by(PayoutLine.year.desc(), PayoutLine.id.desc()))
    if by_year:
        stmt = stmt.where(PayoutLine.year == bindparam("year"))
    return PageQuery(stmt, rows=True)


def my_accounts(session: Session, members: list[tuple[Member, str]], year: int | None,
                today: date) -> dict:
    """The member account (成员账户, Art. 43) of each membership, as the shares
    capability computes it."""
    items = []
    for member, coop_name in members:
        account = member_account(session, member, year, today)
        account["cooperative_name"] = coop_name
        items.append(account)
    return {"year": year, "items": items}
