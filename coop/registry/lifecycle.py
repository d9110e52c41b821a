"""The cooperative lifecycle as an explicit state machine (domain.md).

    active ──► standardized                      规范提升
    active ──► shell ──► closed | merged | transformed   空壳社 → 关停并转

Nothing else is allowed; every change carries a reason, is kept in
`cooperative_status_changes` and audited. It also carries the day it took effect
(`effective_on`, default today, China's calendar): a campaign of past years is recorded
with its own dates, and the figures by year (coop/reports/figures.py) count by them. A
change never takes effect in the future, before the cooperative was founded, or before
the change it follows, so a cooperative's history reads in order of its dates.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import coop.audit as audit
import coop.clock as clock
from coop.errors import Conflict, RuleViolation
from coop.registry.cooperatives import lock
from coop.registry.models import Cooperative, CooperativeStatusChange
from coop.validators import check_past_date

TRANSITIONS: dict[str, frozenset[str]] = {
    "active": frozenset({"standardized", "shell"}),
    "standardized": frozenset(),
    "shell": frozenset({"closed", "merged", "transformed"}),
    "closed": frozenset(),
    "merged": frozenset(),
    "transformed": frozenset(),
}
# A merger absorbs a shell into a cooperative that is still running.
MERGE_TARGET_STATUSES = ("active", "standardized")


def allowed(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, ())


def _check_merge_target(coop: Cooperative, to: str, target: Cooperative | None) -> None:
    if to != "merged":
        if target is not None:
            raise RuleViolation("只有合并时才能指定并入的合作社",
                                errors={"merged_into_id": ["仅在 to=merged 时填写"]})
        return
    if target is None:
        raise RuleViolation("合并须指定并入的合作社",
                            errors={"merged_into_id": ["合并时必填"]})
    if target.id == coop.id:
        raise RuleViolation("合作社不能并入自身", code="MERGE_TARGET_INVALID",
                            errors={"merged_into_id": ["不能是本社"]})
    if target.county_id != coop.county_id:
        raise RuleViolation("只能并入本县的合作社", code="MERGE_TARGET_INVALID",
                            errors={"merged_into_id": ["须为本县的合作社"]})
    if target.status not in MERGE_TARGET_STATUSES:
        raise RuleViolation("并入的合作社须处于正常经营状态", code="MERGE_TARGET_INVALID",
                            errors={"merged_into_id": ["该社已关停、合并、转型或为空壳社"]})


def _check_effective_on(session: Session, coop: Cooperative, day: date) -> None:
    check_past_date(day, "effective_on", "生效日期")
    if day < coop.founded_on:
        raise RuleViolation(f"生效日期不能早于合作社成立日期（{coop.founded_on.isoformat()}）",
                            errors={"effective_on": ["before the cooperative was founded"]})
    last = session.execute(select(func.max(CooperativeStatusChange.effective_on))
                           .where(CooperativeStatusChange.cooperative_id == coop.id)
                           ).scalar_one_or_none()
    if last is not None and day < last:
        raise RuleViolation(f"生效日期不能早于上一次状态变更（{last.isoformat()}）",
                            errors={"effective_on": ["before the previous status change"]})


def change_status(session: Session, actor, coop: Cooperative, to: str, reason: str,
                  merged_into: Cooperative | None = None,
                  effective_on: date | None = None) -> CooperativeStatusChange:
    """Move the cooperative to `to` if the table allows it, else 409 STATE_CONFLICT; the
    change takes effect on `effective_on` (default today, China's).

    The cooperative row is locked first, so two concurrent changes cannot both pass the
    check from the same state.
    """
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("请填写状态变更原因", errors={"reason": ["不能为空"]})
    coop = lock(session, coop)
    if not allowed(coop.status, to):
        raise Conflict(f"合作社当前状态为 {coop.status}，不能变更为 {to}")
    _check_merge_target(coop, to, merged_into)
    effective_on = effective_on or clock.today()
    _check_effective_on(session, coop, effective_on)
    change = CooperativeStatusChange(
        county_id=coop.county_id, cooperative_id=coop.id, from_status=coop.status,
        to_status=to, reason=reason, merged_into_id=merged_into.id if merged_into else None,
        changed_by=getattr(actor, "id", None), effective_on=effective_on)
    before = {"status": coop.status, "merged_into_id": coop.merged_into_id}
    coop.status = to
    if merged_into is not None:
        coop.merged_into_id = merged_into.id
    session.add(change)
    session.flush()
    audit.record(session, actor, "cooperative.status_change", "cooperative", coop.id,
                 before=before, after={"status": to, "merged_into_id": coop.merged_into_id,
                                       "reason": reason, "change_id": change.id,
                                       "effective_on": effective_on.isoformat()})
    return change


def history_query(coop: Cooperative):
    """The status changes of one cooperative, oldest first (a SELECT to paginate)."""
    return (select(CooperativeStatusChange)
            .where(CooperativeStatusChange.cooperative_id == coop.id)
            .order_by(CooperativeStatusChange.id))
