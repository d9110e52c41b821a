"""Reading the register: holdings by member and kind as of a date.

Today's holdings are the balances (coop/shares/models.py `ShareBalance`, the running sum
of every line). A past date is whichever is shorter to sum: the balances minus the
lines dated after it, or the lines up to it — one grouped SUM over the covering index
(cooperative, effective_on, member, kind, delta) either way, one row per member.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, case, cast, func, select
from sqlalchemy.orm import Session

from coop.registry.models import Member
from coop.shares import rules
from coop.shares.models import KINDS, ShareBalance, ShareLine, ShareOperation, ShareRegisterHead

ByKind = dict[str, int]
BALANCE_COLUMNS = [getattr(ShareBalance, f"{kind}_fen") for kind in KINDS]


def _by_kind(values) -> ByKind:
    return {kind: int(value or 0) for kind, value in zip(KINDS, values)}


def current_holdings(session: Session, cooperative_id: int) -> dict[int, ByKind]:
    """{member_id: {kind: fen}} from the balances: the holdings after every line."""
    rows = session.connection().execute(
        select(ShareBalance.member_id, *BALANCE_COLUMNS)
        .where(ShareBalance.cooperative_id == cooperative_id, ShareBalance.total_fen != 0)).all()
    return {row[0]: dict(zip(KINDS, row[1:])) for row in rows}


def line_sums(session: Session, cooperative_id: int, condition) -> dict[int, ByKind]:
    """{member_id: {kind: fen}} summed over the cooperative's lines matching `condition`."""
    # CAST: MySQL sums integers as DECIMAL, which the driver would turn into Decimals.
    sums = [cast(func.sum(case((ShareLine.kind == kind, ShareLine.delta_fen), else_=0)),
                 BigInteger) for kind in KINDS]
    rows = session.connection().execute(
        select(ShareLine.member_id, *sums)
        .where(ShareLine.cooperative_id == cooperative_id, condition)
        .group_by(ShareLine.member_id)).all()
    return {row[0]: _by_kind(row[1:]) for row in rows}


def any_line_after(session: Session, cooperative_id: int, as_of: date) -> bool:
    return session.execute(select(ShareLine.id).where(
        ShareLine.cooperative_id == cooperative_id, ShareLine.effective_on > as_of)
        .limit(1)).first() is not None


def holdings_as_of(session: Session, cooperative_id: int,
                   as_of: date) -> dict[int, dict[str, int]]:
    """{member_id: {kind: fen}} of every member with a non-zero holding on `as_of`
    (only the non-zero kinds)."""
    if not any_line_after(session, cooperative_id, as_of):
        holdings = current_holdings(session, cooperative_id)
    else:
        later = session.execute(select(func.count()).select_from(ShareLine).where(
            ShareLine.cooperative_id == cooperative_id, ShareLine.effective_on > as_of)
        ).scalar_one()
        head = session.get(ShareRegisterHead, cooperative_id)
        # Subtracting also reads every balance: worth it when the later lines are few.
        if 3 * later < (head.last_line_no if head else 0):
            holdings = current_holdings(session, cooperative_id)
            for member_id, kinds in line_sums(session, cooperative_id,
                                              ShareLine.effective_on > as_of).items():
                held = holdings.setdefault(member_id, dict.fromkeys(KINDS, 0))
                for kind, fen in kinds.items():
                    held[kind] -= fen
        else:
            holdings = line_sums(session, cooperative_id, ShareLine.effective_on <= as_of)
    return {member_id: {k: fen for k, fen in kinds.items() if fen}
            for member_id, kinds in holdings.items() if any(kinds.values())}


def member_holding_as_of(session: Session, member_id: int, as_of: date) -> dict[str, int]:
    """{kind: fen} one member holds on `as_of` (every kind, zeros included)."""
    rows = dict(session.execute(
        select(ShareLine.kind, func.sum(ShareLine.delta_fen))
        .where(ShareLine.member_id == member_id, ShareLine.effective_on <= as_of)
        .group_by(ShareLine.kind)).all())
    return {kind: int(rows.get(kind) or 0) for kind in KINDS}


def member_totals_as_of(session: Session, cooperative_id: int, as_of: date) -> dict[int, int]:
    """{member_id: total fen} of members holding capital on `as_of`."""
    return {m: sum(k.values()) for m, k in holdings_as_of(session, cooperative_id, as_of).items()
            if sum(k.values())}


def register_as_of(session: Session, coop, as_of: date) -> dict:
    """The share register (股权登记簿) on `as_of`: every member holding capital, with
    their holding by kind, total and ratio of the cooperative's capital (a decimal
    string of four places, rounded half-up)."""
    if not any_line_after(session, coop.id, as_of):
        # Nothing dated later: the balances are the register, names joined in one read.
        rows = session.connection().execute(
            select(ShareBalance.member_id, Member.name, *BALANCE_COLUMNS)
            .join(Member, Member.id == ShareBalance.member_id)
            .where(ShareBalance.cooperative_id == coop.id, ShareBalance.total_fen != 0)
            .order_by(ShareBalance.member_id)).all()
    else:
        holdings = holdings_as_of(session, coop.id, as_of)
        names = dict(session.connection().execute(
            select(Member.id, Member.name).where(Member.cooperative_id == coop.id)).all())
        rows = [(member_id, names.get(member_id, ""), *(kinds.get(k, 0) for k in KINDS))
                for member_id, kinds in sorted(holdings.items())]
    totals = [sum(row[2:]) for row in rows]
    capital = sum(totals)
    members = [{"member_id": row[0], "name": row[1], "by_kind": dict(zip(KINDS, row[2:])),
                "total_fen": total, "ratio": rules.ratio_string(total, capital)}
               for row, total in zip(rows, totals)]
    return {"as_of": as_of, "total_fen": capital, "members": members}


def lines_query(cooperative_id: int | None = None, member_id: int | None = None,
                operation_id: int | None = None):
    """Register lines in number order, with the type of the operation that wrote them."""
    stmt = (select(ShareLine, ShareOperation.type)
            .join(ShareOperation, ShareOperation.id == ShareLine.operation_id)
            .order_by(ShareLine.cooperative_id, ShareLine.line_no))
    if cooperative_id is not None:
        stmt = stmt.where(ShareLine.cooperative_id == cooperative_id)
    if member_id is not None:
        stmt = stmt.where(ShareLine.member_id == member_id)
    if operation_id is not None:
        stmt = stmt.where(ShareLine.operation_id == operation_id)
    return stmt
