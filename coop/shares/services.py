"""Share operations, the use cases (股权变动：认购、转让、退股、盈余转股、冲正).

An operation is requested (`submitted`), then `approved` — which writes its numbered,
immutable register lines (coop/shares/ledger.py) — or `rejected`. A mistake in an
approved operation is corrected by a `reverse` operation that references it and, once
approved, writes the original's lines negated; nothing is ever edited.

Valuation (stated in the OpenAPI spec too): an operation names exactly one of
`amount_fen` (any kind), `area_mu` (land only: area × the charter's
`land_rate_fen_per_mu`, rounded half-up to the fen) or `tickets` (labour only:
tickets × the charter's `labour_ticket_rate_fen`, exact). The value in fen is stored on
the operation and is what the register records.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import coop.audit as audit
import coop.clock as clock
from coop.dbtypes import utcnow
from coop.errors import Conflict, RuleViolation, ValidationFailed
from coop.money import MAX_FEN
from coop.registry.models import Cooperative
from coop.shares import ledger, membership, rules
from coop.shares.models import KINDS, ShareOperation
from coop.shares.models import OperationStatus as Status
from coop.transaction import transition
from coop.validators import check_past_date

REQUEST_TYPES = ("subscribe", "transfer", "redeem", "convert_surplus")
# 财政补助量化的股份只参与分配，不得转让、退还
LOCKED_KINDS = ("fiscal_subsidy",)
DECIDED_ALREADY = "该股权操作已处理，不能再次审批"


def submit_operation(session: Session, actor, coop: Cooperative, *, type: str, member_id: int,
                     kind: str, effective_on: date, amount_fen: int | None = None,
                     area_mu: Decimal | None = None, tickets: int | None = None,
                     to_member_id: int | None = None, note: str | None = None) -> ShareOperation:
    """Record a requested share operation (`submitted`); nothing is written to the register.

    Cheap rules are checked now (dates, membership, transferability, the holding at that
    date); all of them, and the single-member cap, are checked again at approval.
    """
    if type not in REQUEST_TYPES:
        raise ValidationFailed("不支持的操作类型", errors={"type": [f"one of {REQUEST_TYPES}"]})
    op = _new_operation(session, actor, coop, type=type, member_id=member_id, kind=kind,
                        effective_on=effective_on,
                        amount_fen=valuation(coop, kind, amount_fen, area_mu, tickets),
                        area_mu=area_mu, tickets=tickets, to_member_id=to_member_id, note=note)
    ledger.check_sufficient(session, coop.id, effective_on, ledger.planned_lines(session, op))
    return op


def approve_operation(session: Session, actor, op: ShareOperation) -> ShareOperation:
    """Approve a submitted operation: its register lines are written in this transaction."""
    _approve(session, actor, op, session.get(Cooperative, op.cooperative_id))
    return op


def reject_operation(session: Session, actor, op: ShareOperation, reason: str) -> ShareOperation:
    """Reject a submitted operation; a second decision on it is 409 STATE_CONFLICT."""
    transition(session, op, Status.SUBMITTED, DECIDED_ALREADY, status=Status.REJECTED,
               reject_reason=reason, decided_by=getattr(actor, "id", None), decided_at=utcnow())
    audit.record(session, actor, "share_operation.reject", "share_operation", op.id,
                 before={"status": Status.SUBMITTED},
                 after={"status": Status.REJECTED, "reason": reason})
    return op


def reverse_operation(session: Session, actor, original: ShareOperation, *, reason: str,
                      effective_on: date | None = None) -> ShareOperation:
    """Request the correction (冲正) of an approved operation: a `reverse` operation that
    references it. Approving it writes the original's lines negated, dated `effective_on`
    (default: the original's date, so past registers read as if it had never happened).
    """
    if original.status != Status.APPROVED or original.type == "reverse":
        raise Conflict("只能冲正已审批的股权操作")
    pending = session.execute(select(func.count()).select_from(ShareOperation).where(
        ShareOperation.reverses_id == original.id,
        ShareOperation.status.in_((Status.SUBMITTED, Status.APPROVED)))).scalar_one()
    if pending:
        raise Conflict("该操作已有冲正申请或已被冲正")
    effective_on = effective_on or original.effective_on
    if effective_on < original.effective_on:
        raise ValidationFailed("冲正日期不能早于原操作的生效日期",
                               errors={"effective_on": ["not before the original's date"]})
    coop = session.get(Cooperative, original.cooperative_id)
    op = _new_operation(session, actor, coop, type="reverse", member_id=original.member_id,
                        kind=original.kind, effective_on=effective_on,
                        amount_fen=original.amount_fen, area_mu=original.area_mu,
                        tickets=original.tickets, to_member_id=original.to_member_id,
                        note=reason, reverses_id=original.id)
    ledger.check_sufficient(session, coop.id, effective_on, ledger.planned_lines(session, op))
    return op


def convert_surplus(session: Session, actor, coop: Cooperative, member_id: int, amount_fen: int,
                    effective_on: date, distribution_id: int) -> ShareOperation:
    """盈余转为出资 (Art. 44): the member assembly converted `amount_fen` of this member's
    distribution into cash capital. Creates a `convert_surplus` operation and approves it
    at once, writing its lines under the register lock. All approval rules apply (the
    cap included). Does NOT commit: the distribution's transaction does.
    """
    op = _new_operation(session, actor, coop, type="convert_surplus", member_id=member_id,
                        kind="cash", effective_on=effective_on,
                        amount_fen=valuation(coop, "cash", amount_fen, None, None),
                        distribution_id=distribution_id)
    _approve(session, actor, op, coop)
    return op


# 折股: field → (the kind it values, the charter rate it uses, how, what it is called)
IN_KIND = {
    "area_mu": ("land", "land_rate_fen_per_mu", rules.land_value_fen, "土地经营权按面积"),
    "tickets": ("labour", "labour_ticket_rate_fen", rules.labour_value_fen, "劳务按劳务票"),
}


def valuation(coop: Cooperative, kind: str, amount_fen: int | None, area_mu: Decimal | None,
              tickets: int | None) -> int:
    """The operation's value in fen from exactly one of amount, land area or tickets."""
    given = {name: value for name, value in (("amount_fen", amount_fen), ("area_mu", area_mu),
                                             ("tickets", tickets)) if value is not None}
    if len(given) != 1:
        raise ValidationFailed("金额、土地面积、劳务票数须且只能填写一项",
                               errors={"amount_fen": ["exactly one of amount_fen, area_mu, "
                                                      "tickets"]})
    (field, quantity), = given.items()
    value = quantity
    if field in IN_KIND:
        valued_kind, rate_name, value_of, label = IN_KIND[field]
        if kind != valued_kind:
            raise ValidationFailed(f"只有{label}折股", errors={field: [f"only with kind "
                                                                      f"{valued_kind}"]})
        rate = getattr(coop, rate_name)
        if not rate:
            raise RuleViolation(f"章程未规定{label}折股的标准", code="CHARTER_RATE_MISSING",
                                errors={field: [f"{rate_name} is not set"]})
        value = value_of(quantity, rate)
    if not 0 < value <= MAX_FEN:
        raise ValidationFailed("折股金额须大于 0 且不超过上限",
                               errors={field: ["value must be 1..MAX_FEN fen"]})
    return value


def _new_operation(session: Session, actor, coop: Cooperative, *, type: str, member_id: int,
                   kind: str, effective_on: date, amount_fen: int, area_mu=None, tickets=None,
                   to_member_id=None, note=None, reverses_id=None,
                   distribution_id=None) -> ShareOperation:
    if kind not in KINDS:
        raise ValidationFailed("不支持的出资方式", errors={"kind": [f"one of {KINDS}"]})
    check_past_date(effective_on, "effective_on", "生效日期", code="EFFECTIVE_DATE_IN_FUTURE")
    if type in ("transfer", "redeem") and kind in LOCKED_KINDS:
        raise RuleViolation("财政补助量化形成的股份不得转让或退还", code="NOT_TRANSFERABLE",
                            errors={"kind": [kind]})
    if type == "convert_surplus" and kind != "cash":
        raise ValidationFailed("盈余转股只能记为货币出资", errors={"kind": ["must be cash"]})
    member = membership.member_of(session, coop, member_id, "member_id")
    to_member = None
    if type == "transfer":
        to_member = membership.transferee(session, coop, member, to_member_id, effective_on)
    elif to_member_id is not None and type != "reverse":
        raise ValidationFailed("只有转让需要受让成员", errors={"to_member_id": ["only for transfer"]})
    if type in ("subscribe", "convert_surplus"):
        membership.check_receiving(member, effective_on, kind)
    op = ShareOperation(
        county_id=coop.county_id, cooperative_id=coop.id, member_id=member.id,
        to_member_id=to_member.id if to_member else to_member_id, type=type, kind=kind,
        amount_fen=amount_fen, area_mu=area_mu, tickets=tickets, effective_on=effective_on,
        note=note, status=Status.SUBMITTED, reverses_id=reverses_id, distribution_id=distribution_id,
        created_by=getattr(actor, "id", None))
    session.add(op)
    session.flush()
    audit.record(session, actor, f"share_operation.{'reverse' if reverses_id else 'submit'}",
                 "share_operation", op.id, after=operation_state(op))
    return op


def _approve(session: Session, actor, op: ShareOperation, coop: Cooperative) -> None:
    lines = ledger.execute(session, actor, op, coop, clock.today())
    transition(session, op, Status.SUBMITTED, DECIDED_ALREADY, status=Status.APPROVED,
               decided_by=getattr(actor, "id", None), decided_at=utcnow())
    audit.record(session, actor, "share_operation.approve", "share_operation", op.id,
                 before={"status": Status.SUBMITTED},
                 after={"status": Status.APPROVED,
                        "lines": [[ln.line_no, ln.member_id, ln.kind, ln.delta_fen]
                                  for ln in lines]})


def operation_state(op: ShareOperation) -> dict:
    return {"type": op.type, "member_id": op.member_id, "to_member_id": op.to_member_id,
            "kind": op.kind, "amount_fen": op.amount_fen,
            "area_mu": str(op.area_mu) if op.area_mu is not None else None,
            "tickets": op.tickets, "effective_on": op.effective_on, "status": op.status,
            "reverses_id": op.reverses_id, "distribution_id": op.distribution_id}
