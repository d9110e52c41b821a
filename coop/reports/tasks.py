"""What waits on the caller now (CONTRACT §12, `GET /me/tasks`): one read model over every
capability, computed from the data each time, so there is nothing to mark done by hand.
The console's home page (coop/console) and the mini-program's to-do list are this list.

Each kind is a query restricted by the same scope rule as the API (`auth.policy.scoped`)
for the role that acts on it, and asked only when the caller holds that role:

* application_to_decide — county_finance: submitted subsidy applications;
* disbursement_to_make — county_finance: approved applications someone else approved
  (the approver may not disburse, 四眼原则);
* round_to_approve — county_finance: draft reward rounds someone else created;
* scores_to_enter — county_reviewer: per county and year that has reward rules (a graded
  year) and no live round yet, the cooperatives in operation still without this
  reviewer's department's score;
* operation_to_approve — coop_manager: submitted share operations;
* plan_ready_to_approve — coop_manager: publicized plans whose notice period is over;
* batch_with_failed_lines — the batch's payer (the cooperative's manager for its batches,
  county_admin/county_finance for the county's): failed lines not yet re-issued;
* lines_held — the batch's payer too: lines held for want of the payee's bank account.

A superuser holds no grant and so gets no tasks (they act for nobody in particular).
"""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from auth.policy import COUNTY_MONEY, caller, grants_for, scoped
import coop.clock as clock
from coop.county.models import (LIVE_ROUND_STATES, ApplicationStatus, EvaluationScore, Program,
                                RewardRound, RewardRule, RoundStatus, SubsidyApplication)
from coop.distribution.models import DistributionPlan, PlanStatus
from coop.money import format_yuan
from coop.payouts.models import LineStatus, PayoutBatch, PayoutLine
from coop.registry.models import CoopStatus, Cooperative
from coop.shares.models import OperationStatus, ShareOperation

FINANCE = ("county_finance",)
MANAGER = ("coop_manager",)
DEPARTMENT_NAMES = {"organization": "组织部门", "finance": "财政部门",
                    "agriculture": "农业农村部门"}
OP_TYPE_NAMES = {"subscribe": "入股", "transfer": "转让", "withdraw": "退股",
                 "reverse": "冲正", "convert_surplus": "盈余转股"}
# Cooperatives a county grades: those in operation (as the reward round's eligibility).
GRADED_STATUSES = (CoopStatus.ACTIVE, CoopStatus.STANDARDIZED)


class Task(NamedTuple):
    kind: str
    object_type: str
    object_id: int
    title: str
    since: datetime


def _yuan(fen: int) -> str:
    return f"{format_yuan(fen, thousands=True)} 元"


def applications_to_decide(session: Session) -> list[Task]:
    stmt = (select(SubsidyApplication, Cooperative.name, Program.name)
            .join(Cooperative, Cooperative.id == SubsidyApplication.cooperative_id)
            .join(Program, Program.id == SubsidyApplication.program_id)
            .where(SubsidyApplication.status == ApplicationStatus.SUBMITTED))
    return [Task("application_to_decide", "subsidy_application", app.id,
                 f"{coop}申请“{program}”补助 {_yuan(app.amount_fen)}，待审批", app.created_at)
            for app, coop, program in session.execute(scoped(stmt, SubsidyApplication, FINANCE))]


def disbursements_to_make(session: Session, user_id: int) -> list[Task]:
    stmt = (select(SubsidyApplication, Cooperative.name)
            .join(Cooperative, Cooperative.id == SubsidyApplication.cooperative_id)
            .where(SubsidyApplication.status == ApplicationStatus.APPROVED,
                   SubsidyApplication.approved_by != user_id))
    return [Task("disbursement_to_make", "subsidy_application", app.id,
                 f"{coop}的补助 {_yuan(app.amount_fen)} 已批准，待拨付",
                 app.approved_at or app.updated_at)
            for app, coop in session.execute(scoped(stmt, SubsidyApplication, FINANCE))]


def rounds_to_approve(session: Session, user_id: int) -> list[Task]:
    stmt = select(RewardRound).where(RewardRound.status == RoundStatus.DRAFT,
                                     RewardRound.created_by != user_id)
    return [Task("round_to_approve", "reward_round", rnd.id,
                 f"{rnd.year}年度奖励轮次（{rnd.line_count} 笔，共 {_yuan(rnd.total_fen)}）待批准",
                 rnd.created_at)
            for rnd in session.execute(scoped(stmt, RewardRound, FINANCE)).scalars()]


def scores_to_enter(session: Session) -> list[Task]:
    """One task per county, graded year and department of the caller's reviewer grants."""
    tasks = []
    for grant in grants_for(("county_reviewer",)):
        if grant.scope_type != "county" or not grant.department:
            continue
        live = exists().where(RewardRound.county_id == RewardRule.county_id,
                              RewardRound.year == RewardRule.year,
                              RewardRound.status.in_(LIVE_ROUND_STATES))
        scored = exists().where(EvaluationScore.cooperative_id == Cooperative.id,
                                EvaluationScore.year == RewardRule.year,
                                EvaluationScore.department == grant.department)
        rows = session.execute(
            select(RewardRule.year, func.count(Cooperative.id), func.min(RewardRule.created_at))
            .join(Cooperative, and_(Cooperative.county_id == RewardRule.county_id,
                                    Cooperative.status.in_(GRADED_STATUSES)))
            .where(RewardRule.county_id == grant.scope_id, ~live, ~scored)
            .group_by(RewardRule.year).order_by(RewardRule.year)).all()
        department = DEPARTMENT_NAMES.get(grant.department, grant.department)
        tasks += [Task("scores_to_enter", "county", grant.scope_id,
                       f"{year}年度考核：{count} 家合作社待{department}评分", since)
                  for year, count, since in rows]
    return tasks


def operations_to_approve(session: Session) -> list[Task]:
    stmt = (select(ShareOperation, Cooperative.name)
            .join(Cooperative, Cooperative.id == ShareOperation.cooperative_id)
            .where(ShareOperation.status == OperationStatus.SUBMITTED))
    return [Task("operation_to_approve", "share_operation", op.id,
                 f"{coop}：{OP_TYPE_NAMES.get(op.type, op.type)} {_yuan(op.amount_fen)}，待批准",
                 op.created_at)
            for op, coop in session.execute(scoped(stmt, ShareOperation, MANAGER))]


def plans_ready_to_approve(session: Session) -> list[Task]:
    stmt = (select(DistributionPlan, Cooperative.name)
            .join(Cooperative, Cooperative.id == DistributionPlan.cooperative_id)
            .where(DistributionPlan.status == PlanStatus.PUBLICIZED,
                   DistributionPlan.notice_ends_at <= clock.now()))
    return [Task("plan_ready_to_approve", "distribution_plan", plan.id,
                 f"{coop}{plan.year}年度盈余分配方案公示期已满，待批准", plan.notice_ends_at)
            for plan, coop in session.execute(scoped(stmt, DistributionPlan, MANAGER))]


def _lines_in(status: LineStatus, batch_filter) -> select:
    """Per batch: its lines in `status` that no follow-up batch has re-issued."""
    again = aliased(PayoutLine)
    return (select(PayoutBatch.id, PayoutBatch.year, func.count(PayoutLine.id),
                   func.sum(PayoutLine.amount_fen),
                   func.max(func.coalesce(PayoutLine.updated_at, PayoutLine.created_at)))
            .join(PayoutLine, PayoutLine.batch_id == PayoutBatch.id)
            .where(PayoutLine.status == status, batch_filter,
                   ~exists().where(again.reissue_of_id == PayoutLine.id))
            .group_by(PayoutBatch.id, PayoutBatch.year))


def _payer_rows(session: Session, status: LineStatus) -> list:
    """Lines in `status` wait on the batch's payer (coop/payouts/routes.py
    `_require_payer`): a cooperative's manager for its batches, the county's money roles
    for the county's."""
    rows = []
    if grants_for(MANAGER):
        rows += session.execute(scoped(
            _lines_in(status, PayoutBatch.cooperative_id.is_not(None)), PayoutBatch,
            MANAGER)).all()
    if grants_for(COUNTY_MONEY):
        rows += session.execute(scoped(
            _lines_in(status, PayoutBatch.cooperative_id.is_(None)), PayoutBatch,
            COUNTY_MONEY)).all()
    return rows


def batches_with_failed_lines(session: Session) -> list[Task]:
    return [Task("batch_with_failed_lines", "payout_batch", batch_id,
                 f"{year}年度发放批次 {batch_id}：{count} 笔发放失败（{_yuan(int(fen))}），"
                 "待更正账户后补发", since)
            for batch_id, year, count, fen, since in _payer_rows(session, LineStatus.FAILED)]


def batches_with_held_lines(session: Session) -> list[Task]:
    return [Task("lines_held", "payout_batch", batch_id,
                 f"{year}年度发放批次 {batch_id}：{count} 笔缺银行账户暂缓发放"
                 f"（{_yuan(int(fen))}），待登记账户", since)
            for batch_id, year, count, fen, since in _payer_rows(session, LineStatus.HELD)]


def my_tasks(session: Session) -> list[Task]:
    """Every task of the caller, the longest-waiting first."""
    me = caller().id
    tasks: list[Task] = []
    if grants_for(FINANCE):
        tasks += applications_to_decide(session)
        tasks += disbursements_to_make(session, me)
        tasks += rounds_to_approve(session, me)
    tasks += scores_to_enter(session)
    if grants_for(MANAGER):
        tasks += operations_to_approve(session)
        tasks += plans_ready_to_approve(session)
    tasks += batches_with_failed_lines(session)
    tasks += batches_with_held_lines(session)
    return sorted(tasks, key=lambda t: (t.since, t.kind, t.object_id))

