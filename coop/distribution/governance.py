"""The plan's road to payment (CONTRACT §5, Arts. 22, 40, 44):

    draft → submitted → assembly_approved → publicized → approved → paid
                     ↘ rejected (the assembly voted it down)
    draft | submitted | assembly_approved | publicized → cancelled

Every transition is one conditional UPDATE … WHERE status IN (expected): of two requests
racing, the second finds no row in the expected state and answers 409 STATE_CONFLICT.

Art. 44 conversion into capital: the assembly record may carry `conversions`
[{member_id, amount_fen}] — the part of a member's distribution the assembly converts
into capital. It is kept on the line (`convert_fen`), written to the share register
through `coop.shares.services.convert_surplus` when the plan is approved, and the payout
pays only the rest. The collective member must keep a cash part: its whole distribution is
village collective income, recorded against its payout line.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

import coop.audit as audit
import coop.clock as clock
from coop.distribution.models import DistributionLine, DistributionPlan
from coop.distribution.models import PlanStatus as Status
from coop.distribution.services import current_digest, get_account
from coop.dbtypes import utcnow
from coop.errors import Conflict, RuleViolation, ValidationFailed
from coop.registry.models import Cooperative
from coop.shares.services import convert_surplus
from coop.transaction import transition
from coop.validators import past_date_problem

CANCELLABLE = (Status.DRAFT, Status.SUBMITTED, Status.ASSEMBLY_APPROVED, Status.PUBLICIZED)
MAX_EXTRA_VOTE_SHARE = 5   # extra votes ≤ basic votes / 5, i.e. 20% (Art. 22)


def _advance(session: Session, actor, plan: DistributionPlan, expected: tuple[str, ...],
             action: str, **values) -> None:
    """Move `plan` from one of `expected` to `values['status']`, or 409 if another request
    moved it first. Audits it."""
    if plan.status not in expected:
        raise Conflict(f"方案当前状态为 {plan.status}，不能执行此操作")
    before = plan.status
    transition(session, plan, expected, "方案状态已被其他操作改变，请刷新后重试", **values)
    audit.record(session, actor, f"distribution_plan.{action}", "distribution_plan", plan.id,
                 before={"status": before},
                 after={k: v for k, v in values.items() if k != "live_year"})


def submit(session: Session, actor, plan: DistributionPlan) -> DistributionPlan:
    """提交: the board puts the draft to the members (Art. 40: made available before the
    assembly)."""
    _advance(session, actor, plan, (Status.DRAFT,), "submit", status=Status.SUBMITTED,
             submitted_at=utcnow())
    return plan


def record_assembly(session: Session, actor, plan: DistributionPlan, tally: dict,
                    conversions: list[dict] | None = None) -> DistributionPlan:
    """成员大会表决: record the vote; more than half of all votes adopts the plan,
    otherwise it is `rejected`.

    Art. 22: extra votes may not exceed 20% of the basic votes (422
    EXTRA_VOTES_OVER_LIMIT). Votes cast cannot exceed the votes that exist (422).
    """
    basic, extra = tally["basic_votes_total"], tally["extra_votes_total"]
    cast = tally["votes_for"] + tally["votes_against"] + tally["abstentions"]
    if extra * MAX_EXTRA_VOTE_SHARE > basic:
        raise RuleViolation("附加表决权总票数不得超过基本表决权总票数的 20%",
                            code="EXTRA_VOTES_OVER_LIMIT")
    if cast > basic + extra:
        raise ValidationFailed("赞成、反对、弃权票之和超过了表决权总数",
                               errors={"votes_for": ["票数之和不能超过 基本+附加 表决权"]})
    held_on = tally["held_on"]
    if past_date_problem(held_on) is not None or held_on.year < plan.year:
        raise ValidationFailed("成员大会日期须在分配年度之后、且不晚于今天",
                               errors={"held_on": [f"{plan.year}-01-01 至今天"]})
    adopted = tally["votes_for"] * 2 > basic + extra
    planned = _checked_conversions(session, plan, conversions or [])
    values = dict(assembly_held_on=held_on, basic_votes_total=basic, extra_votes_total=extra,
                  votes_for=tally["votes_for"], votes_against=tally["votes_against"],
                  abstentions=tally["abstentions"])
    if adopted:
        values.update(status=Status.ASSEMBLY_APPROVED,
                      converted_fen=sum(planned.values()))
    else:
        values.update(status=Status.REJECTED, live_year=None, decided_at=utcnow(),
                      decided_by=getattr(actor, "id", None))
    _advance(session, actor, plan, (Status.SUBMITTED,), "record_assembly", **values)
    for member_id, amount in planned.items() if adopted else ():
        session.execute(update(DistributionLine)
                        .where(DistributionLine.plan_id == plan.id,
                               DistributionLine.member_id == member_id)
                        .values(convert_fen=amount).execution_options(synchronize_session=False))
    if adopted and planned:
        audit.record(session, actor, "distribution_plan.conversions", "distribution_plan",
                     plan.id, after={"conversions": {str(m): a for m, a in planned.items()}})
    return plan


def _checked_conversions(session: Session, plan: DistributionPlan,
                         conversions: list[dict]) -> dict[int, int]:
    if not conversions:
        return {}
    wanted = [c["member_id"] for c in conversions]
    lines = {line.member_id: line for line in session.execute(
        select(DistributionLine).where(DistributionLine.plan_id == plan.id,
                                       DistributionLine.member_id.in_(wanted))).scalars()}
    errors: dict[str, list[str]] = {}
    for i, item in enumerate(conversions):
        line = lines.get(item["member_id"])
        if line is None:
            errors[str(i)] = ["该成员不在本方案中"]
        elif wanted.count(item["member_id"]) > 1:
            errors[str(i)] = ["同一成员只能出现一次"]
        elif item["amount_fen"] > line.total_fen:
            errors[str(i)] = [f"转股金额不能超过该成员的分配额 {line.total_fen} 分"]
        elif line.is_collective and item["amount_fen"] >= line.total_fen:
            errors[str(i)] = ["集体成员须保留现金部分（计入村集体收入）"]
    if errors:
        raise ValidationFailed("转股安排有误", errors={"conversions": errors})
    return {c["member_id"]: c["amount_fen"] for c in conversions}


def publish(session: Session, actor, plan: DistributionPlan, notice_days: int,
            min_days: int) -> DistributionPlan:
    """公示: open the public notice for `notice_days` (≥ the configured minimum) under an
    unguessable token."""
    if notice_days < min_days:
        raise ValidationFailed(f"公示期不得少于 {min_days} 天",
                               errors={"notice_days": [f"至少 {min_days} 天"]})
    now = utcnow()
    _advance(session, actor, plan, (Status.ASSEMBLY_APPROVED,), "publish",
             status=Status.PUBLICIZED,
             public_token=secrets.token_urlsafe(24), notice_days=notice_days,
             notice_starts_at=now, notice_ends_at=now + timedelta(days=notice_days))
    return plan


def approve(session: Session, actor, plan: DistributionPlan) -> DistributionPlan:
    """批准: after the notice period the plan becomes final; the year's accounts lock and
    the Art. 44 conversions are written to the share register.

    409 NOTICE_PERIOD_NOT_OVER during the notice; 409 STATE_CONFLICT if the accounts,
    trades or capital behind the plan changed since it was computed (cancel, recompute).
    """
    if plan.status == Status.PUBLICIZED and utcnow() < plan.notice_ends_at:
        raise Conflict(f"公示期至 {plan.notice_ends_at.isoformat()} 结束，之后才能批准",
                       code="NOTICE_PERIOD_NOT_OVER")
    _advance(session, actor, plan, (Status.PUBLICIZED,), "approve", status=Status.APPROVED,
             decided_at=utcnow(), decided_by=getattr(actor, "id", None))
    coop = session.get(Cooperative, plan.cooperative_id)
    # Same row lock as an edit of the accounts or trades: neither can slip in between.
    account = get_account(session, plan.cooperative_id, plan.year, lock=True)
    if current_digest(session, coop, plan.year, account) != plan.basis_digest:
        raise Conflict("方案生成后年度账目、交易或股金已变更，请撤销后重新生成方案")
    if plan.converted_fen:
        _write_conversions(session, actor, coop, plan)
    return plan


def _write_conversions(session: Session, actor, coop: Cooperative,
                       plan: DistributionPlan) -> None:
    effective_on = clock.today()
    for member_id, amount in session.execute(
            select(DistributionLine.member_id, DistributionLine.convert_fen)
            .where(DistributionLine.plan_id == plan.id, DistributionLine.convert_fen > 0)
            .order_by(DistributionLine.member_id)).all():
        convert_surplus(session, actor, coop, member_id, amount, effective_on, plan.id)


def cancel(session: Session, actor, plan: DistributionPlan) -> DistributionPlan:
    """撤销: withdraw a plan that is not yet approved; the year is free for a new plan."""
    _advance(session, actor, plan, CANCELLABLE, "cancel", status=Status.CANCELLED, live_year=None,
             decided_at=utcnow(), decided_by=getattr(actor, "id", None))
    return plan
