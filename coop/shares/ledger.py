"""Executing an approved operation on the register (股权登记簿).

`execute` runs inside the approver's transaction: it locks the cooperative's register
head, checks the rules against the register as it stands under that lock, writes the
lines numbered after the head, bumps the head, adds the lines to the members' balances
and flags members whose holding reached zero. Nothing here commits, and nothing here
ever updates or deletes a line.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import BigInteger, case, cast, delete, func, insert, select, true
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

import coop.audit as audit
from coop.errors import Conflict, RuleViolation, ValidationFailed
from coop.money import MAX_FEN
from coop.registry.models import Cooperative, Member
from coop.shares import membership, rules
from coop.shares.models import (OperationStatus, ShareBalance, ShareLine, ShareOperation,
                                ShareRegisterHead)
from coop.validators import check_past_date
from coop.shares.register import (BALANCE_COLUMNS, any_line_after, by_date, by_member,
                                  line_sums)

# (member_id, kind, delta_fen)
Planned = tuple[int, str, int]
KIND_LABELS = {"cash": "货币", "land": "土地经营权", "collective_asset": "集体资产",
               "fiscal_subsidy": "财政补助", "labour": "劳务"}


def lock_register(session: Session, cooperative_id: int) -> ShareRegisterHead:
    """Lock the cooperative's register head row, creating it on the first approval.

    One upsert both creates and locks the row, so two first-ever approvals cannot
    deadlock: on MariaDB `INSERT … ON DUPLICATE KEY UPDATE` takes the exclusive row lock
    (a plain INSERT that hits a duplicate takes a shared lock, and two such waiters
    then deadlock on the FOR UPDATE that follows); on SQLite any INSERT takes the
    database write lock before anything is read.
    """
    values = {"cooperative_id": cooperative_id, "last_line_no": 0}
    keep = {"last_line_no": ShareRegisterHead.last_line_no}
    if session.get_bind().dialect.name == "sqlite":
        stmt = sqlite_insert(ShareRegisterHead).values(**values).on_conflict_do_update(
            index_elements=["cooperative_id"], set_=keep)
    else:
        stmt = mysql_insert(ShareRegisterHead).values(**values).on_duplicate_key_update(**keep)
    session.execute(stmt)
    return session.execute(
        select(ShareRegisterHead).where(ShareRegisterHead.cooperative_id == cooperative_id)
        .with_for_update().execution_options(populate_existing=True)).scalar_one()


def planned_lines(session: Session, op: ShareOperation) -> list[Planned]:
    """The signed changes approving `op` writes, one per member and kind."""
    if op.type in ("subscribe", "convert_surplus"):
        return [(op.member_id, op.kind, op.amount_fen)]
    if op.type == "redeem":
        return [(op.member_id, op.kind, -op.amount_fen)]
    if op.type == "transfer":
        return [(op.member_id, op.kind, -op.amount_fen), (op.to_member_id, op.kind, op.amount_fen)]
    # reverse: the original's lines, negated, in the original's order
    rows = session.execute(select(ShareLine.member_id, ShareLine.kind, ShareLine.delta_fen)
                           .where(ShareLine.operation_id == op.reverses_id)
                           .order_by(ShareLine.line_no)).all()
    return [(m, k, -d) for m, k, d in rows]


def check_sufficient(session: Session, cooperative_id: int, on: date,
                     planned: list[Planned]) -> None:
    """No holding of a kind may go below zero on `on` or on any later date."""
    net: dict[tuple[int, str], int] = defaultdict(int)
    for member_id, kind, delta in planned:
        net[(member_id, kind)] += delta
    for (member_id, kind), delta in net.items():
        if delta >= 0:
            continue
        rows = session.execute(
            select(ShareLine.effective_on, func.sum(ShareLine.delta_fen))
            .where(ShareLine.cooperative_id == cooperative_id, ShareLine.member_id == member_id,
                   ShareLine.kind == kind)
            .group_by(ShareLine.effective_on).order_by(ShareLine.effective_on)).all()
        opening = sum(int(s) for d, s in rows if d <= on)
        later = [int(s) for d, s in rows if d > on]
        if rules.lowest_balance(opening + delta, later) < 0:
            raise RuleViolation(f"成员持有的{KIND_LABELS[kind]}股金不足（截至 {on} 或其后某日）",
                                code="INSUFFICIENT_SHARES",
                                errors={"member_id": [member_id], "kind": [kind]})


def check_cap(session: Session, coop: Cooperative, on: date, planned: list[Planned]) -> None:
    """The single-member cap on the register after the operation: on its date and on
    every later date that has lines (a back-dated operation changes them all).

    The totals on `on` are today's balances minus the lines dated after it; the same
    lines, replayed date by date (rules.first_cap_breach), give every later checkpoint.
    """
    change: dict[int, int] = defaultdict(int)
    for member_id, _kind, delta in planned:
        change[member_id] += delta
    exempt = set() if coop.collective_cap_applies else collective_member_ids(session, coop.id)
    if _cap_checked_on_changed_members(session, coop, on, change, exempt):
        return
    if _cap_checked_over_later_dates(session, coop, on, change, exempt):
        return
    opening = defaultdict(int, session.connection().execute(
        select(ShareBalance.member_id, ShareBalance.total_fen)
        .where(ShareBalance.cooperative_id == coop.id, ShareBalance.total_fen != 0)).all())
    later = session.connection().execute(
        select(ShareLine.effective_on, ShareLine.member_id,
               cast(func.sum(ShareLine.delta_fen), BigInteger))
        .where(ShareLine.cooperative_id == coop.id, ShareLine.effective_on > on)
        .group_by(ShareLine.effective_on, ShareLine.member_id)
        .order_by(ShareLine.effective_on)).all()
    checkpoints: dict[date, list[tuple[int, int]]] = defaultdict(list)
    for day, member_id, total in later:
        checkpoints[day].append((member_id, total))
        opening[member_id] -= total      # back from today's balances to the operation's date
    first = rules.first_cap_breach(on, opening, checkpoints.items(), change, exempt,
                                   coop.single_member_cap_rate)
    if first:
        _refuse_breaches(coop, *first)


def _cap_checked_on_changed_members(session: Session, coop: Cooperative, on: date,
                                    change: dict[int, int], exempt: set[int]) -> bool:
    """The usual case — nothing dated after `on` — checked from register totals and the
    changed members' balances alone (rules.breaches_among_changed). False when the
    whole register has to be read."""
    if any_line_after(session, coop.id, on):
        return False
    positive = (ShareBalance.cooperative_id == coop.id, ShareBalance.total_fen > 0)
    total, holders = session.execute(select(func.coalesce(func.sum(ShareBalance.total_fen), 0),
                                            func.count()).where(*positive)).one()
    before = dict.fromkeys(change, 0) | dict(session.execute(
        select(ShareBalance.member_id, ShareBalance.total_fen)
        .where(ShareBalance.cooperative_id == coop.id,
               ShareBalance.member_id.in_(change))).all())
    after = {m: before[m] + delta for m, delta in change.items()}
    joined = sum(1 for m in change if before[m] <= 0 < after[m])
    left = sum(1 for m in change if before[m] > 0 >= after[m])
    total = int(total)
    breaches = rules.breaches_among_changed(
        before, after, total, total + sum(change.values()), holders, holders + joined - left,
        exempt, coop.single_member_cap_rate)
    if breaches is None:
        return False
    _refuse_breaches(coop, on, breaches)
    return True


def _cap_checked_over_later_dates(session: Session, coop: Cooperative, on: date,
                                  change: dict[int, int], exempt: set[int]) -> bool:
    """A back-dated operation that does not shrink the capital, on a register that has
    enough holders on every date from `on` (rules.first_breach_among_changed): only the
    changed members can breach, so this reads their lines and the capital per later date
    — a few hundred rows off the date index — instead of every member's balance and
    every later line per member. False when the whole register has to be walked."""
    needed = rules.CAP_MIN_HOLDERS + len(change)
    if sum(change.values()) < 0:
        return False
    execute = session.connection().execute
    # Members holding capital on `on` with no negative line after it hold capital on
    # every date from `on`: enough of them, and the cap applies on all those dates.
    # Streamed in member order, the query stops at the `needed`-th such member.
    after = ShareLine.effective_on > on
    steady = execute(by_member(
        select(ShareLine.member_id).where(ShareLine.cooperative_id == coop.id)
        .group_by(ShareLine.member_id)
        .having(func.sum(case((after, 0), else_=ShareLine.delta_fen)) > 0,
                func.min(case((after, ShareLine.delta_fen), else_=1)) > 0)
        .limit(needed))).all()
    if len(steady) < needed:
        return False
    capital = int(execute(select(func.coalesce(func.sum(ShareBalance.total_fen), 0))
                          .where(ShareBalance.cooperative_id == coop.id)).scalar_one())
    later = execute(by_date(
        select(ShareLine.effective_on, cast(func.sum(ShareLine.delta_fen), BigInteger))
        .where(ShareLine.cooperative_id == coop.id, ShareLine.effective_on > on)
        .group_by(ShareLine.effective_on).order_by(ShareLine.effective_on))).all()
    opening: dict[int, int] = defaultdict(int)
    moves: dict[date, list[tuple[int, int]]] = defaultdict(list)
    for day, member_id, fen in execute(
            select(ShareLine.effective_on, ShareLine.member_id,
                   cast(func.sum(ShareLine.delta_fen), BigInteger))
            .where(ShareLine.cooperative_id == coop.id, ShareLine.member_id.in_(change))
            .group_by(ShareLine.effective_on, ShareLine.member_id)):
        if day <= on:
            opening[member_id] += fen
        else:
            moves[day].append((member_id, fen))
    # capital on `on`: today's (the balances) less what was added after it
    capital -= sum(fen for _day, fen in later)
    first = rules.first_breach_among_changed(
        on, opening, capital, ((day, fen, moves.get(day, ())) for day, fen in later),
        change, exempt, coop.single_member_cap_rate)
    if first:
        _refuse_breaches(coop, *first)
    return True


def _refuse_breaches(coop: Cooperative, day: date, breaches: set[int]) -> None:
    if breaches:
        raise RuleViolation(
            f"单一成员持股不得超过合作社股金总额的 {coop.single_member_cap_rate}（{day}）",
            code="SINGLE_MEMBER_CAP_EXCEEDED", errors={"member_ids": sorted(breaches)})


def collective_member_ids(session: Session, cooperative_id: int) -> set[int]:
    return set(session.execute(select(Member.id).where(
        Member.cooperative_id == cooperative_id, Member.member_type == "collective")).scalars())


def write_lines(session: Session, head: ShareRegisterHead, op: ShareOperation,
                planned: list[Planned]) -> list[ShareLine]:
    """Append the lines numbered after the head, and move the head past them."""
    lines = []
    for offset, (member_id, kind, delta) in enumerate(planned, start=1):
        lines.append(ShareLine(county_id=op.county_id, cooperative_id=op.cooperative_id,
                               line_no=head.last_line_no + offset, member_id=member_id,
                               operation_id=op.id, kind=kind, delta_fen=delta,
                               effective_on=op.effective_on))
    session.add_all(lines)
    head.last_line_no += len(lines)
    session.flush()
    return lines


def apply_to_balances(session: Session, op: ShareOperation, lines: list[ShareLine]) -> None:
    """Add the new lines to the members' balances (under the register lock)."""
    for line in lines:
        balance = session.get(ShareBalance, (op.cooperative_id, line.member_id))
        if balance is None:
            balance = ShareBalance(cooperative_id=op.cooperative_id, member_id=line.member_id,
                                   county_id=op.county_id, **{c.key: 0 for c in BALANCE_COLUMNS},
                                   total_fen=0)
            session.add(balance)
        column = f"{line.kind}_fen"
        setattr(balance, column, getattr(balance, column) + line.delta_fen)
        balance.total_fen += line.delta_fen
        if balance.total_fen > MAX_FEN:
            raise ValidationFailed("成员持股金额超出上限", errors={"amount_fen": ["too large"]})
    session.flush()


def rebuild_balances(session: Session, cooperative_id: int) -> None:
    """Recompute a cooperative's balances from its lines (after a bulk load, or to
    repair); takes the register lock. Does not commit."""
    lock_register(session, cooperative_id)
    coop = session.get(Cooperative, cooperative_id)
    session.execute(delete(ShareBalance).where(ShareBalance.cooperative_id == cooperative_id))
    sums = line_sums(session, cooperative_id, true())
    values = [{"cooperative_id": cooperative_id, "member_id": member_id,
               "county_id": coop.county_id, "total_fen": sum(kinds.values()),
               **{f"{kind}_fen": fen for kind, fen in kinds.items()}}
              for member_id, kinds in sums.items()]
    if values:
        session.execute(insert(ShareBalance), values)


def update_member_status(session: Session, actor, cooperative_id: int,
                         member_ids: set[int]) -> None:
    """A member whose holding reached zero becomes `former` (kept, flagged); a former
    member who holds shares again (a new subscription, a reversal) is `active` again.
    Members who `left` keep that status."""
    totals = dict(session.execute(
        select(ShareBalance.member_id, ShareBalance.total_fen)
        .where(ShareBalance.cooperative_id == cooperative_id,
               ShareBalance.member_id.in_(member_ids))).all())
    for member in session.execute(select(Member).where(Member.id.in_(member_ids))).scalars():
        holding = int(totals.get(member.id) or 0)
        new = {"active": "former" if holding == 0 else "active",
               "former": "active" if holding > 0 else "former"}.get(member.status, member.status)
        if new != member.status:
            audit.record(session, actor, "member.status_change", "member", member.id,
                         before={"status": member.status}, after={"status": new,
                                                                  "holding_fen": holding})
            member.status = new


def execute(session: Session, actor, op: ShareOperation, coop: Cooperative,
            today: date) -> list[ShareLine]:
    """Approve `op` on the register under the head lock; returns the lines written.

    Raises Conflict when the operation is no longer `submitted` (or the original of a
    reversal is already reversed) and RuleViolation when a rule refuses it. Every rule
    is checked against the register as it stands under the lock.
    """
    head = lock_register(session, coop.id)
    session.refresh(op, with_for_update=True)
    if op.status != OperationStatus.SUBMITTED:
        raise Conflict("该股权操作已处理，不能再次审批")
    check_past_date(op.effective_on, "effective_on", "生效日期", code="EFFECTIVE_DATE_IN_FUTURE",
                    today=today)
    # Membership may have changed since submission (left, or holds nothing any more).
    member = membership.member_of(session, coop, op.member_id, "member_id")
    if op.type == "transfer":
        membership.transferee(session, coop, member, op.to_member_id, op.effective_on)
    elif op.type in ("subscribe", "convert_surplus"):
        membership.check_receiving(member, op.effective_on, op.kind)
    if op.type == "reverse":
        _check_still_reversible(session, op)
    planned = planned_lines(session, op)
    check_sufficient(session, coop.id, op.effective_on, planned)
    check_cap(session, coop, op.effective_on, planned)
    lines = write_lines(session, head, op, planned)
    apply_to_balances(session, op, lines)
    update_member_status(session, actor, coop.id, {m for m, _k, _d in planned})
    return lines


def _check_still_reversible(session: Session, op: ShareOperation) -> None:
    original = session.get(ShareOperation, op.reverses_id, populate_existing=True)
    done = session.execute(select(func.count()).select_from(ShareOperation).where(
        ShareOperation.reverses_id == op.reverses_id,
        ShareOperation.status == OperationStatus.APPROVED)
    ).scalar_one()
    if original is None or original.status != OperationStatus.APPROVED or done:
        raise Conflict("原操作已被冲正或不再是已审批状态")
