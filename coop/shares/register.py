"""Reading the register: holdings by member and kind as of a date.

Today's holdings are the balances (coop/shares/models.py `ShareBalance`, the running sum
of every line). A past date is read in ONE grouped query, from whichever side is shorter:
the lines up to that date summed per member (streamed in member order off the covering
index (cooperative, member, effective_on, kind, delta)), or the balances minus the lines
dated after it (a range of the (cooperative, effective_on, …) index). Rows come back as
plain Core tuples ordered by member: 5,000 members must not cost 5,000 ORM objects.
The date index is read as often as the member index, so the two are named to MariaDB,
whose planner otherwise scans the member index (every line of the cooperative) for a
date range and groups by member in a temporary table rather than in index order.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, case, cast, func, literal, select
from sqlalchemy.orm import Session

from coop.registry.models import Member
from coop.shares import rules
from coop.shares.models import KINDS, ShareBalance, ShareLine, ShareOperation, ShareRegisterHead

ByKind = dict[str, int]
BALANCE_COLUMNS = [getattr(ShareBalance, f"{kind}_fen") for kind in KINDS]
# Lines sampled (by line number) to tell whether most lines are dated before or after a day.
DIRECTION_SAMPLES = 64


def by_date(stmt):
    """Read a date range of the cooperative's lines off the (cooperative, effective_on,
    …) index on MariaDB (other databases choose it themselves)."""
    hint = "FORCE INDEX (ix_share_lines_coop_date)"
    return stmt.with_hint(ShareLine, hint, "mysql").with_hint(ShareLine, hint, "mariadb")


def by_member(stmt):
    """Group the cooperative's lines by member in (cooperative, member_id, …) index
    order on MariaDB, without a temporary table."""
    hint = "FORCE INDEX (ix_share_lines_coop_member)"
    return stmt.with_hint(ShareLine, hint, "mysql").with_hint(ShareLine, hint, "mariadb")


def kind_sums() -> list:
    """One SUM(CASE …) column per kind, for a query grouped by member."""
    # CAST: MySQL sums integers as DECIMAL, which the driver would turn into Decimals.
    return [cast(func.sum(case((ShareLine.kind == kind, ShareLine.delta_fen), else_=0)),
                 BigInteger).label(kind) for kind in KINDS]


def line_sums(session: Session, cooperative_id: int, condition) -> dict[int, ByKind]:
    """{member_id: {kind: fen}} summed over the cooperative's lines matching `condition`."""
    rows = session.connection().execute(by_member(
        select(ShareLine.member_id, *kind_sums())
        .where(ShareLine.cooperative_id == cooperative_id, condition)
        .group_by(ShareLine.member_id))).all()
    return {row[0]: dict(zip(KINDS, row[1:])) for row in rows}


def any_line_after(session: Session, cooperative_id: int, as_of: date) -> bool:
    return session.connection().execute(by_date(select(literal(1)).where(
        ShareLine.cooperative_id == cooperative_id, ShareLine.effective_on > as_of))
        .limit(1)).first() is not None


def _mostly_later(session: Session, cooperative_id: int, as_of: date) -> bool:
    """Are at least a third of the lines dated after `as_of`? Estimated from a sample of
    line numbers (a few primary-key reads) instead of counting: it only picks which side
    of the date is summed, never what the sum is."""
    head = session.connection().execute(select(ShareRegisterHead.last_line_no).where(
        ShareRegisterHead.cooperative_id == cooperative_id)).scalar() or 0
    step = max(1, head // DIRECTION_SAMPLES)
    numbers = list(range(1, head + 1, step))
    if not numbers:
        return True
    # No date condition in SQL: with one, SQLite would range-scan the date index instead.
    dates = session.connection().execute(
        select(ShareLine.effective_on).where(ShareLine.cooperative_id == cooperative_id,
                                             ShareLine.line_no.in_(numbers))).scalars()
    later = sum(1 for day in dates if day > as_of)
    return 3 * later >= len(numbers)


def _as_of_query(session: Session, cooperative_id: int, as_of: date):
    """The one query giving (member_id, fen of each kind…) of every member on `as_of`
    (members holding nothing may be among them), its member-id column, and whether it
    reads the balances (then a join to the members is a primary-key lookup in order)."""
    if not any_line_after(session, cooperative_id, as_of):
        # Nothing dated later: the balances are the register.
        return (select(ShareBalance.member_id, *BALANCE_COLUMNS)
                .where(ShareBalance.cooperative_id == cooperative_id,
                       ShareBalance.total_fen != 0), ShareBalance.member_id, True)
    if not _mostly_later(session, cooperative_id, as_of):
        # Few later lines: today's balances minus them. Every member with a line has a
        # balance row (apply_to_balances, rebuild_balances), so the outer join finds all.
        later = by_date(select(ShareLine.member_id, *kind_sums())
                        .where(ShareLine.cooperative_id == cooperative_id,
                               ShareLine.effective_on > as_of)
                        .group_by(ShareLine.member_id)).subquery()
        return (select(ShareBalance.member_id,
                       *(column - func.coalesce(later.c[kind], 0)
                         for kind, column in zip(KINDS, BALANCE_COLUMNS)))
                .outerjoin(later, later.c.member_id == ShareBalance.member_id)
                .where(ShareBalance.cooperative_id == cooperative_id),
                ShareBalance.member_id, True)
    # The lines up to the date summed per member, streamed in member order.
    upto = ShareLine.effective_on <= as_of
    return (by_member(select(ShareLine.member_id, *kind_sums())
                      .where(ShareLine.cooperative_id == cooperative_id, upto)
                      .group_by(ShareLine.member_id)), ShareLine.member_id, False)


def holdings_as_of(session: Session, cooperative_id: int,
                   as_of: date) -> dict[int, dict[str, int]]:
    """{member_id: {kind: fen}} of every member with a non-zero holding on `as_of`
    (only the non-zero kinds)."""
    stmt, member_id, _ = _as_of_query(session, cooperative_id, as_of)
    out = {}
    for row in session.connection().execute(stmt):
        held = {kind: int(fen) for kind, fen in zip(KINDS, row[1:]) if fen}
        if held:
            out[row[0]] = held
    return out


def member_holding_as_of(session: Session, member_id: int, as_of: date) -> dict[str, int]:
    """{kind: fen} one member holds on `as_of` (every kind, zeros included)."""
    rows = dict(session.execute(
        select(ShareLine.kind, func.sum(ShareLine.delta_fen))
        .where(ShareLine.member_id == member_id, ShareLine.effective_on <= as_of)
        .group_by(ShareLine.kind)).all())
    return {kind: int(rows.get(kind) or 0) for kind in KINDS}


def member_totals_as_of(session: Session, cooperative_id: int, as_of: date) -> dict[int, int]:
    """{member_id: total fen} of members holding capital on `as_of`."""
    return {member_id: total for member_id, kinds in holdings_as_of(session, cooperative_id,
                                                                  as_of).items()
            if (total := sum(kinds.values()))}


def register_as_of(session: Session, coop, as_of: date) -> dict:
    """The share register (股权登记簿) on `as_of`: every member holding capital, with
    their holding by kind, total and ratio of the cooperative's capital (a decimal
    string of four places, rounded half-up)."""
    stmt, member_id, reads_balances = _as_of_query(session, coop.id, as_of)
    execute = session.connection().execute
    if reads_balances:
        rows = execute(stmt.add_columns(Member.name).join(Member, Member.id == member_id)
                       .order_by(member_id)).all()
    else:
        # Names apart: joining them to the grouped lines would materialize and sort the
        # groups again (SQLite), for no gain on MariaDB.
        names = dict(execute(select(Member.id, Member.name)
                             .where(Member.cooperative_id == coop.id)).all())
        rows = [(*row, names.get(row[0], "")) for row in execute(stmt.order_by(member_id))]
    # (member_id, fen of each kind…, name)
    rows = [row for row in rows if any(row[1:-1])]
    totals = [sum(row[1:-1]) for row in rows]
    capital = sum(totals)
    ratio = rules.ratio_string
    members = [{"member_id": row[0], "name": row[-1], "by_kind": dict(zip(KINDS, row[1:-1])),
                "total_fen": total, "ratio": ratio(total, capital)}
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
