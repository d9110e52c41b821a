"""Which changes tell whom (CONTRACT §12). The audit trail sees every write
(`coop.audit.record`); create_app plugs `on_audit` into its ON_RECORD hook, and the
handler named by the action writes the notifications in the same transaction.

Recipients come from role assignments inside the object's own scope, so a foreign
county's staff is never told: a county role of the object's county, a cooperative role of
its cooperative, the member role of the line's member. The actor is never told of their
own action; a task that falls due later (a notice period's end) is told to all.

Who is told what (the table, with the template keys: docs/notifications.md):

* subsidy_application.submit — the county's county_finance: application_to_decide;
* .approve — the cooperative's coop_managers: application_approved; the county's other
  county_finance: disbursement_to_make; .reject — the managers: application_rejected;
  .disburse — the managers: disbursement_made;
* reward_round.create — the county's other county_finance: round_to_approve;
  .approve / .reject — the round's creator: round_approved / round_rejected, and on
  approval each awarded cooperative's managers: reward_approved;
* reward_rules.set for a new year — the county's county_reviewers: scores_to_enter;
* distribution_plan.publish — the coop_managers and the plan's members' users:
  notice_published; the coop_managers again when the notice ends: plan_ready_to_approve
  (withdrawn by .approve / .cancel while not due);
* share_operation.submit — the cooperative's other coop_managers: operation_to_approve;
* payout_batch.results — each paid / failed line's member user: payout_paid /
  payout_failed; the batch's other payers if a line failed: batch_with_failed_lines;
* payout_batch.create with held lines — the batch's other payers: lines_held;
* user.role_grant — the grantee: role_granted; the county's other county_admins:
  role_granted_notice (staff roles); user.create — those admins: user_created.

`account` is an inbox-only event: no WeChat template is asked for it.
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from auth.models import RoleAssignment, User
from auth.users import scope_county_id
import coop.clock as clock
from coop.county.models import Program, RewardLine, RewardRound, SubsidyApplication
from coop.distribution.models import DistributionLine, DistributionPlan
from coop.money import format_yuan
from coop.notifications.models import Notification
from coop.notifications.outbox import note, notify, write
from coop.payouts.models import LineStatus, PayoutBatch, PayoutLine
from coop.places.models import County
from coop.registry.models import Cooperative
from coop.shares.models import ShareOperation

FINANCE = ("county_finance",)
COUNTY_PAYERS = ("county_admin", "county_finance")
MANAGERS = ("coop_manager",)
CONSOLE_HINT = "请登录县级工作台处理"
SOURCE_NAMES = {"distribution": "盈余分配", "reward": "奖补", "subsidy": "补助"}
ROLE_NAMES = {"county_admin": "县级管理员", "county_finance": "县财政人员",
              "county_reviewer": "县评审人员", "coop_manager": "合作社管理人员",
              "commissioner": "联络指导员", "member": "合作社成员", "city_viewer": "市级查看人员"}
OP_TYPE_NAMES = {"subscribe": "入股", "transfer": "转让", "withdraw": "退股",
                 "redeem": "退股", "reverse": "冲正", "convert_surplus": "盈余转股"}


def holders(session: Session, roles: tuple[str, ...], scope_type: str,
            scope_ids) -> list[int]:
    """Active users holding one of `roles` on one of `scope_ids`."""
    ids = sorted(set(scope_ids))
    if not ids:
        return []
    return list(session.execute(
        select(RoleAssignment.user_id).join(User, User.id == RoleAssignment.user_id)
        .where(RoleAssignment.role.in_(roles), RoleAssignment.scope_type == scope_type,
               RoleAssignment.scope_id.in_(ids), User.status == "active")
        .distinct()).scalars())


def member_users(session: Session, member_ids) -> dict[int, list[int]]:
    """{member id: active users holding the member role on that member record}."""
    ids = sorted(set(member_ids))
    found: dict[int, list[int]] = {}
    for start in range(0, len(ids), 1000):
        for member_id, user_id in session.execute(
                select(RoleAssignment.scope_id, RoleAssignment.user_id)
                .join(User, User.id == RoleAssignment.user_id)
                .where(RoleAssignment.role == "member", RoleAssignment.scope_type == "member",
                       RoleAssignment.scope_id.in_(ids[start:start + 1000]),
                       User.status == "active")):
            found.setdefault(member_id, []).append(user_id)
    return found


def _yuan(fen: int) -> str:
    return format_yuan(fen, thousands=True) + " 元"


# --- subsidy applications -----------------------------------------------------------------

def _application(session, app_id):
    app = session.get(SubsidyApplication, app_id)
    coop = session.get(Cooperative, app.cooperative_id)
    program = session.get(Program, app.program_id)
    return app, coop, program


def application_submitted(session, actor_id, app_id, before, after):
    app, coop, program = _application(session, app_id)
    notify(session, holders(session, FINANCE, "county", [app.county_id]),
           event="task_created", kind="application_to_decide", title="补助申请待审批",
           body=f"{coop.name}申请{program.name} {_yuan(app.amount_fen)}，{CONSOLE_HINT}",
           object_type="subsidy_application", object_id=app.id, exclude=actor_id,
           fields={"task": "补助申请待审批", "subject": coop.name, "at": clock.now()})


def application_approved(session, actor_id, app_id, before, after):
    app, coop, program = _application(session, app_id)
    granted = getattr(app, "approved_amount_fen", None) or app.amount_fen
    notify(session, holders(session, MANAGERS, "cooperative", [coop.id]),
           event="application_decided", kind="application_approved", title="补助申请已批准",
           body=f"{program.name}：批准 {_yuan(granted)}（申请 {_yuan(app.amount_fen)}）",
           object_type="subsidy_application", object_id=app.id, exclude=actor_id,
           fields={"item": program.name, "result": "已批准", "amount_fen": granted,
                   "at": clock.now(), "note": coop.name})
    # Four eyes: the approver may not disburse, so every other finance user is asked to.
    notify(session, holders(session, FINANCE, "county", [app.county_id]),
           event="task_created", kind="disbursement_to_make", title="补助待拨付",
           body=f"{coop.name}的{program.name} {_yuan(granted)} 已批准，待另一名财政人员拨付",
           object_type="subsidy_application", object_id=app.id, exclude=actor_id,
           fields={"task": "补助待拨付", "subject": coop.name, "at": clock.now()})


def application_rejected(session, actor_id, app_id, before, after):
    app, coop, program = _application(session, app_id)
    reason = app.reject_reason or (after or {}).get("reason") or ""
    notify(session, holders(session, MANAGERS, "cooperative", [coop.id]),
           event="application_decided", kind="application_rejected", title="补助申请未通过",
           body=f"{program.name}：未通过。理由：{reason}",
           object_type="subsidy_application", object_id=app.id, exclude=actor_id,
           fields={"item": program.name, "result": "未通过", "amount_fen": app.amount_fen,
                   "at": clock.now(), "note": reason})


def application_disbursed(session, actor_id, app_id, before, after):
    app, coop, program = _application(session, app_id)
    granted = getattr(app, "approved_amount_fen", None) or app.amount_fen
    notify(session, holders(session, MANAGERS, "cooperative", [coop.id]),
           event="disbursement_made", kind="disbursement_made", title="补助资金已拨付",
           body=f"{program.name} {_yuan(granted)} 已于 {app.paid_on} 拨付至{coop.name}",
           object_type="subsidy_application", object_id=app.id, exclude=actor_id,
           fields={"item": program.name, "amount_fen": granted, "on": app.paid_on,
                   "subject": coop.name})


# --- reward rounds ------------------------------------------------------------------------

def round_created(session, actor_id, round_id, before, after):
    rnd = session.get(RewardRound, round_id)
    notify(session, holders(session, FINANCE, "county", [rnd.county_id]),
           event="task_created", kind="round_to_approve", title="奖补轮次待批准",
           body=f"{rnd.year}年度奖补轮次（{rnd.line_count} 行，共 {_yuan(rnd.total_fen)}）"
                f"待另一名财政人员批准",
           object_type="reward_round", object_id=rnd.id, exclude=actor_id,
           fields={"task": "奖补轮次待批准", "subject": f"{rnd.year}年度奖补",
                   "at": clock.now()})


def round_decided(session, actor_id, round_id, before, after):
    rnd = session.get(RewardRound, round_id)
    approved = rnd.status == "approved"
    result = "已批准" if approved else "未通过"
    notify(session, [rnd.created_by], event="application_decided",
           kind="round_approved" if approved else "round_rejected",
           title=f"奖补轮次{result}",
           body=f"{rnd.year}年度奖补轮次{result}" + ("" if approved else f"：{rnd.reason or ''}"),
           object_type="reward_round", object_id=rnd.id, exclude=actor_id,
           fields={"item": f"{rnd.year}年度奖补轮次", "result": result,
                   "amount_fen": rnd.total_fen, "at": clock.now(), "note": rnd.reason})
    if not approved:
        return
    awards = session.execute(
        select(RewardLine.cooperative_id, Cooperative.name, RewardLine.amount_fen)
        .join(Cooperative, Cooperative.id == RewardLine.cooperative_id)
        .where(RewardLine.round_id == rnd.id, RewardLine.payee_type == "cooperative")).all()
    for coop_id, name, amount in awards:
        notify(session, holders(session, MANAGERS, "cooperative", [coop_id]),
               event="application_decided", kind="reward_approved", title="奖补已批准",
               body=f"{name}获{rnd.year}年度奖补 {_yuan(amount)}，待县财政发放",
               object_type="reward_round", object_id=rnd.id, exclude=actor_id,
               fields={"item": f"{rnd.year}年度奖补", "result": "已批准", "amount_fen": amount,
                       "at": clock.now(), "note": name})


def rules_set(session, actor_id, county_id, before, after):
    if before:      # a change of a year's rules, not a newly graded year
        return
    year = (after or {}).get("year")
    county = session.get(County, county_id)
    notify(session, holders(session, ("county_reviewer",), "county", [county.id]),
           event="task_created", kind="scores_to_enter", title="评分待录入",
           body=f"{county.name}{year or ''}年度合作社评分待录入，{CONSOLE_HINT}",
           object_type="county", object_id=county.id, exclude=actor_id,
           fields={"task": "合作社评分待录入", "subject": f"{year or ''}年度评价",
                   "at": clock.now()})


# --- distribution plans -------------------------------------------------------------------

def plan_published(session, actor_id, plan_id, before, after):
    plan = session.get(DistributionPlan, plan_id)
    coop = session.get(Cooperative, plan.cooperative_id)
    managers = holders(session, MANAGERS, "cooperative", [coop.id])
    members = [u for users in member_users(session, _plan_members(session, plan)).values()
               for u in users]
    until = plan.notice_ends_at
    notify(session, managers + members, event="notice_published", kind="notice_published",
           title="盈余分配方案公示",
           body=f"{coop.name}{plan.year}年度盈余分配方案公示至 "
                f"{clock.format_moment(until)}，如有异议请向理事会提出",
           object_type="distribution_plan", object_id=plan.id, exclude=actor_id,
           fields={"subject": coop.name, "item": f"{plan.year}年度盈余分配方案", "until": until})
    # Told when the notice is over (the inbox shows it, the sender sends it, from then).
    notify(session, managers, event="task_created", kind="plan_ready_to_approve",
           title="公示期满，方案待批准",
           body=f"{coop.name}{plan.year}年度盈余分配方案公示期已满，可以批准",
           object_type="distribution_plan", object_id=plan.id, due_at=until,
           fields={"task": "公示期满，方案待批准", "subject": coop.name, "at": until})


def _plan_members(session, plan) -> list[int]:
    return list(session.execute(select(DistributionLine.member_id).where(
        DistributionLine.plan_id == plan.id)).scalars())


def plan_closed(session, actor_id, plan_id, before, after):
    """An approved or cancelled plan has no end-of-notice task left to tell."""
    later = select(Notification.id).where(
        Notification.object_type == "distribution_plan", Notification.object_id == plan_id,
        Notification.kind == "plan_ready_to_approve", Notification.due_at > clock.now())
    ids = list(session.execute(later).scalars())
    if ids:
        session.execute(delete(Notification).where(Notification.id.in_(ids))
                        .execution_options(synchronize_session=False))


# --- share operations and payouts ---------------------------------------------------------

def operation_submitted(session, actor_id, op_id, before, after):
    op = session.get(ShareOperation, op_id)
    coop = session.get(Cooperative, op.cooperative_id)
    what = OP_TYPE_NAMES.get(op.type, op.type)
    notify(session, holders(session, MANAGERS, "cooperative", [coop.id]),
           event="task_created", kind="operation_to_approve", title="股金变动待审核",
           body=f"{coop.name}有一笔{what} {_yuan(op.amount_fen)} 待审核",
           object_type="share_operation", object_id=op.id, exclude=actor_id,
           fields={"task": f"{what}待审核", "subject": coop.name, "at": clock.now()})


def batch_results(session, actor_id, batch_id, before, after):
    batch = session.get(PayoutBatch, batch_id)
    paid, failed = (after or {}).get("paid") or [], (after or {}).get("failed") or []
    if not paid and not failed:
        return
    coop = session.get(Cooperative, batch.cooperative_id) if batch.cooperative_id else None
    source = SOURCE_NAMES.get(batch.source, batch.source)
    item = f"{batch.year}年度{source}"
    # Plain rows, read afresh: the results were written by a Core UPDATE that lines
    # loaded earlier in this session do not show.
    lines = session.execute(select(
        PayoutLine.id, PayoutLine.member_id, PayoutLine.cooperative_id, PayoutLine.status,
        PayoutLine.amount_fen, PayoutLine.paid_on, PayoutLine.reason)
        .where(PayoutLine.id.in_(paid + failed), PayoutLine.member_id.is_not(None))).all()
    users = member_users(session, [line.member_id for line in lines])
    names = dict(session.execute(select(Cooperative.id, Cooperative.name).where(
        Cooperative.id.in_({line.cooperative_id for line in lines if line.cooperative_id})
    )).all())
    notes = []      # written together: one statement for the whole bank return
    for line in lines:
        subject = names.get(line.cooperative_id, "")
        if line.status == "paid":
            what = dict(event="payout_paid", kind="payout_paid", title=f"{source}已到账",
                        body=f"{subject}{item} {_yuan(line.amount_fen)} "
                             f"已于 {line.paid_on} 支付",
                        fields={"subject": subject, "amount_fen": line.amount_fen,
                                "on": line.paid_on, "item": item})
        elif line.status == "failed":
            reason = line.reason or "银行退回"
            what = dict(event="payout_failed", kind="payout_failed", title=f"{source}支付失败",
                        body=f"{subject}{item} {_yuan(line.amount_fen)} 支付失败：{reason}，"
                             "请核对银行账户",
                        fields={"subject": subject, "amount_fen": line.amount_fen,
                                "note": reason, "at": clock.now()})
        else:
            continue
        notes += [note(user_id, object_type="payout_line", object_id=line.id, **what)
                  for user_id in users.get(line.member_id, ()) if user_id != actor_id]
    write(session, notes)
    if failed:
        payers = _payers(session, batch, coop)
        subject = coop.name if coop is not None else item
        notify(session, payers, event="task_created", kind="batch_with_failed_lines",
               title="发放批次有失败行",
               body=f"{subject}{item}发放批次有 {len(failed)} 行支付失败，请核对账户后补发",
               object_type="payout_batch", object_id=batch.id, exclude=actor_id,
               fields={"task": "发放失败待补发", "subject": subject, "at": clock.now()})


def _payers(session, batch, coop) -> list[int]:
    """Who pays a batch: the cooperative's managers for its distribution batches, the
    county's admin and finance users for the county's (reward, subsidy)."""
    if batch.source == "distribution" and coop is not None:
        return holders(session, MANAGERS, "cooperative", [coop.id])
    return holders(session, COUNTY_PAYERS, "county", [batch.county_id])


def batch_created(session, actor_id, batch_id, before, after):
    batch = session.get(PayoutBatch, batch_id)
    if batch.source == "subsidy":
        return      # its one line is written paid at once, in the same disbursement
    held = session.execute(select(func.count()).select_from(PayoutLine).where(
        PayoutLine.batch_id == batch.id, PayoutLine.status == LineStatus.HELD)).scalar_one()
    if not held:
        return
    coop = session.get(Cooperative, batch.cooperative_id) if batch.cooperative_id else None
    item = f"{batch.year}年度{SOURCE_NAMES.get(batch.source, batch.source)}"
    subject = coop.name if coop is not None else item
    notify(session, _payers(session, batch, coop), event="task_created", kind="lines_held",
           title="发放行缺银行账户",
           body=f"{subject}{item}发放批次有 {held} 行缺银行账户，已暂缓发放，请补录账户",
           object_type="payout_batch", object_id=batch.id, exclude=actor_id,
           fields={"task": "补录银行账户", "subject": subject, "at": clock.now()})


# --- accounts -----------------------------------------------------------------------------

def _admins_of(session, county_ids, but) -> list[int]:
    return [u for u in holders(session, ("county_admin",), "county",
                               [c for c in county_ids if c is not None]) if u != but]


def role_granted(session, actor_id, user_id, before, after):
    user = session.get(User, user_id)
    role = after.get("role", "")
    name = ROLE_NAMES.get(role, role)
    county_id = scope_county_id(session, after.get("scope_type", ""), after.get("scope_id"))
    notify(session, [user.id], event="account", kind="role_granted", title="您获得了新角色",
           body=f"您已获授{name}角色", object_type="user", object_id=user.id,
           exclude=actor_id, fields={"task": f"获授{name}", "subject": user.name,
                                     "at": clock.now()})
    # Four eyes over who may act for the county: its other admins see every staff grant
    # (a member taking up their own record is not news to them).
    if role == "member":
        return
    notify(session, _admins_of(session, [county_id], user.id), event="account",
           kind="role_granted_notice", title="本县有新的角色授权",
           body=f"{user.name}获授{name}角色", object_type="user", object_id=user.id,
           exclude=actor_id, fields={"task": "角色授权", "subject": user.name,
                                     "at": clock.now()})


def user_created(session, actor_id, user_id, before, after):
    user = session.get(User, user_id)
    roles = [r for r in (after or {}).get("roles") or [] if r.get("role") != "member"]
    if not roles:
        return
    counties = {scope_county_id(session, r.get("scope_type", ""), r.get("scope_id"))
                for r in roles}
    names = "、".join(ROLE_NAMES.get(r.get("role"), r.get("role", "")) for r in roles)
    notify(session, _admins_of(session, counties, user.id), event="account",
           kind="user_created", title="本县新增用户",
           body=f"新用户{user.name}" + (f"（{names}）" if names else "") + "已创建",
           object_type="user", object_id=user.id, exclude=actor_id,
           fields={"task": "新增用户", "subject": user.name, "at": clock.now()})


Handler = Callable[[Session, int | None, int, dict, dict], None]
HANDLERS: dict[str, Handler] = {
    "subsidy_application.submit": application_submitted,
    "subsidy_application.approve": application_approved,
    "subsidy_application.reject": application_rejected,
    "subsidy_application.disburse": application_disbursed,
    "reward_round.create": round_created,
    "reward_round.approve": round_decided,
    "reward_round.reject": round_decided,
    "reward_rules.set": rules_set,
    "distribution_plan.publish": plan_published,
    "distribution_plan.approve": plan_closed,
    "distribution_plan.cancel": plan_closed,
    "share_operation.submit": operation_submitted,
    "payout_batch.results": batch_results,
    "payout_batch.create": batch_created,
    "user.role_grant": role_granted,
    "user.create": user_created,
}


def on_audit(session: Session, actor, action: str, object_type: str, object_id,
             before, after) -> None:
    """The audit hook (coop.audit.ON_RECORD): most actions tell nobody and cost a lookup."""
    handler = HANDLERS.get(action)
    if handler is None or object_id is None:
        return
    with session.no_autoflush:
        handler(session, getattr(actor, "id", actor), int(object_id), before or {}, after or {})
