"""The county console's pages (CONTRACT §11): parse the form, call the same service as the
API route, render. Nothing here decides a rule: who may act is `auth.policy.access` (the
API's decorator, a foreign object → 404 page, a wrong role → 403 page); what may happen is
the service's (coop/county, coop/payouts, coop/reports), whose refusal is shown in its
own Chinese words by the error page (coop/console/__init__.py) with nothing changed.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from sqlalchemy import asc, desc, select

from auth import tokens, users
from auth.models import DEPARTMENTS, RoleAssignment, User
from auth.policy import (COUNTY, COUNTY_ADMIN, COUNTY_FINANCE, COUNTY_MONEY, access, caller,
                         current_user, grants_for, load_scoped, require_reviewer_of, scoped)
import coop.clock as clock
from coop.audit import TRAIL_ORDER, AuditEntry, entry_to_dict
from coop.audit_routes import SCOPED_TYPES, check_audit_scope
import coop.console.session as session
from coop.county import evaluations, rewards, subsidies
from coop.county.models import EvaluationScore, Program, RewardRound, SubsidyApplication
from coop.errors import NotFound, Unauthorized, ValidationFailed
from coop.extensions import db, limiter
from coop.money import MoneyError, parse_yuan
from coop.pagination import paginate
from coop.payouts import settlement
from coop.payouts.models import PayoutBatch, PayoutLine
# The API's payer check and bank-file view, reused as they are (no second copy).
from coop.payouts.routes import BatchBankFile, BatchResults, _require_payer
from coop.payouts.services import with_totals
from coop.places.models import County, Town, Village
from coop.registry import members
from coop.registry.cooperatives import filter_cooperatives
from coop.registry.models import COOP_STATUSES, Cooperative
from coop.reports import tasks
from coop.reports.dashboard import DEFAULT_INCOME_THRESHOLDS_FEN, dashboard
from coop.reports.routes import payout_report_file, scope_object

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static", static_url_path="/static")

PER_PAGE = 20
REVIEWER = ("county_reviewer",)
STAFF_ROLES = {"county_admin", "county_finance", "county_reviewer"}


# --- helpers ------------------------------------------------------------------------------

def _page() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 100_000))
    except ValueError:
        return 1


def _sorted(stmt, columns: dict, default: str):
    """?sort=name or ?sort=-name, among `columns`; anything else is the default order."""
    key = request.args.get("sort", default)
    column = columns.get(key.lstrip("-"))
    if column is None:
        key, column = default, columns[default.lstrip("-")]
    return stmt.order_by(desc(column) if key.startswith("-") else asc(column)), key


def _year(default: int | None = None) -> int:
    raw = request.args.get("year")
    try:
        year = int(raw) if raw else (default or clock.today().year)
    except ValueError:
        year = default or clock.today().year
    return max(2000, min(year, 2100))


def _names(model, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())


def _my_counties() -> list[County]:
    """The counties the caller's county grants cover (every county for a superuser)."""
    return list(db.session.execute(scoped(select(County), County, COUNTY)
                                   .order_by(County.id)).scalars())


def _county_from_query() -> County:
    county_id = request.args.get("county_id", type=int)
    if county_id:
        return load_scoped(County, county_id, COUNTY)
    counties = _my_counties()
    if not counties:
        raise NotFound("您的账号没有所属县")
    return counties[0]


def _done(message: str, endpoint: str, **values):
    """Post/redirect/get: the message is shown once on the page redirected to."""
    session.flash(message)
    return redirect(url_for(endpoint, **values), code=303)


def _form_text(name: str, label: str, max_len: int) -> str:
    value = (request.form.get(name) or "").strip()
    if not value or len(value) > max_len:
        raise ValidationFailed(f"请填写{label}（不超过 {max_len} 字）", errors={name: ["必填"]})
    return value


def _form_date(name: str, label: str) -> date:
    try:
        return date.fromisoformat(request.form.get(name, ""))
    except ValueError:
        raise ValidationFailed(f"{label}格式应为 年-月-日", errors={name: ["日期格式"]}) from None


# --- login, logout ----------------------------------------------------------------------

def _login_limit_key() -> str:
    return "console-login:" + (request.form.get("phone") or "-").strip()[:20]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config.get("RATELIMIT_LOGIN_PER_PHONE")
               or "5 per minute;20 per hour", key_func=_login_limit_key,
               methods=["POST"], deduct_when=lambda r: r.status_code == 401)
def login():
    """Phone and password; only county staff and superusers get a console session."""
    target = request.values.get("next", "")
    if not target.startswith("/console/") or target.startswith("//"):
        target = url_for("console.home")
    if request.method == "GET":
        expired = request.args.get("expired") == "1"
        return render_template("console/login.html", next=target, expired=expired)
    phone = (request.form.get("phone") or "").strip()
    try:
        user, pair = users.login_with_password(db.session, phone,
                                               request.form.get("password") or "")
    except Unauthorized as exc:
        return render_template("console/login.html", next=target, error=exc.detail,
                               phone=phone), 401
    family = tokens.decode(pair["access_token"], "access")["fam"]
    roles = {r.role for r in db.session.execute(
        select(RoleAssignment).where(RoleAssignment.user_id == user.id)).scalars()}
    if not user.is_superuser and not roles & STAFF_ROLES:
        # The family this login opened is closed at once: it was for nothing.
        tokens.revoke_family(db.session, family, "console: not county staff")
        return render_template("console/not_staff.html"), 403
    session.log_in(user.id, family)
    return redirect(target, code=303)


@bp.route("/logout", methods=["POST"])
def logout():
    family = session.family_id()
    if family:
        tokens.revoke_family(db.session, family, "console logout")
    session.log_out()
    session.flash("您已退出登录")
    return redirect(url_for("console.login"), code=303)


# --- to-do --------------------------------------------------------------------------------

@bp.route("/")
@access(COUNTY)
def home():
    return render_template("console/home.html", tasks=tasks.my_tasks(db.session))


# --- programs and subsidy applications ------------------------------------------------------

@bp.route("/programs")
@access(COUNTY)
def programs():
    stmt = scoped(select(Program), Program, COUNTY)
    stmt, sort = _sorted(stmt, {"id": Program.id, "name": Program.name, "year": Program.year,
                                "budget": Program.budget_fen,
                                "available": Program.budget_fen - Program.committed_fen
                                - Program.disbursed_fen}, "-id")
    page = paginate(db.session, stmt, _page(), PER_PAGE)
    return render_template("console/programs.html", page=page, sort=sort)


@bp.route("/programs/<int:program_id>")
@access(COUNTY, Program, "program_id")
def program(program):
    stmt = scoped(select(SubsidyApplication).where(SubsidyApplication.program_id == program.id),
                  SubsidyApplication, COUNTY)
    stmt, sort = _sorted(stmt, {"id": SubsidyApplication.id,
                                "amount": SubsidyApplication.amount_fen,
                                "status": SubsidyApplication.status}, "-id")
    page = paginate(db.session, stmt, _page(), PER_PAGE)
    coops = _names(Cooperative, [a.cooperative_id for a in page["items"]])
    return render_template("console/program.html", program=program, page=page, sort=sort,
                           coops=coops)


@bp.route("/subsidy-applications/<int:application_id>")
@access(COUNTY, SubsidyApplication, "application_id")
def application(application):
    people = _names(User, [application.created_by, application.approved_by,
                           application.rejected_by, application.disbursed_by])
    return render_template(
        "console/application.html", app=application,
        program=db.session.get(Program, application.program_id),
        coop=db.session.get(Cooperative, application.cooperative_id), people=people,
        is_finance=bool(grants_for(COUNTY_FINANCE)) or caller().is_superuser,
        me=caller().id, today=clock.today())


@bp.route("/subsidy-applications/<int:application_id>/approve", methods=["POST"])
@access(COUNTY_FINANCE, SubsidyApplication, "application_id")
def approve_application(application):
    """Approve all of it, or the amount (yuan) typed in the form (≤ the amount applied for:
    the service says so if not)."""
    raw = (request.form.get("amount") or "").replace(",", "").strip()
    amount_fen = None
    if raw:
        try:
            amount_fen = parse_yuan(raw)
        except (MoneyError, ValueError):
            raise ValidationFailed("批准金额应为以元为单位的金额，最多两位小数",
                                   errors={"amount": ["金额格式"]}) from None
    subsidies.approve_application(db.session, current_user(), application, amount_fen)
    return _done("已批准，预算已占用", "console.application", application_id=application.id)


@bp.route("/subsidy-applications/<int:application_id>/reject", methods=["POST"])
@access(COUNTY_FINANCE, SubsidyApplication, "application_id")
def reject_application(application):
    reason = _form_text("reason", "驳回理由", 255)
    subsidies.reject_application(db.session, current_user(), application, reason)
    return _done("已驳回", "console.application", application_id=application.id)


@bp.route("/subsidy-applications/<int:application_id>/disburse", methods=["POST"])
@access(COUNTY_FINANCE, SubsidyApplication, "application_id")
def disburse_application(application):
    paid_on = _form_date("paid_on", "拨付日期")
    bank_ref = _form_text("bank_ref", "银行流水号", 64)
    subsidies.disburse_application(db.session, current_user(), application, paid_on, bank_ref)
    return _done("已登记拨付", "console.application", application_id=application.id)


# --- evaluations ----------------------------------------------------------------------------

@bp.route("/evaluations/<int:year>")
@access(COUNTY)
def evaluations_page(year):
    stmt = scoped(select(Cooperative), Cooperative, COUNTY)
    stmt, sort = _sorted(stmt, {"id": Cooperative.id, "name": Cooperative.name}, "id")
    page = paginate(db.session, stmt, _page(), PER_PAGE)
    ids = [c.id for c in page["items"]]
    scores: dict[int, dict[str, EvaluationScore]] = {}
    if ids:
        for row in db.session.execute(select(EvaluationScore).where(
                EvaluationScore.cooperative_id.in_(ids), EvaluationScore.year == year)).scalars():
            scores.setdefault(row.cooperative_id, {})[row.department] = row
    grades = {c.id: evaluations.evaluation(db.session, c, year)["grade"] for c in page["items"]}
    mine = sorted({(gr.scope_id, gr.department) for gr in grants_for(REVIEWER)})
    return render_template("console/evaluations.html", year=year, page=page, sort=sort,
                           scores=scores, grades=grades, departments=DEPARTMENTS, mine=mine)


@bp.route("/cooperatives/<int:coop_id>/evaluations/<int:year>/<department>/score",
          methods=["POST"])
@access(REVIEWER, Cooperative, "coop_id")
def enter_score(coop, year, department):
    if department not in DEPARTMENTS:
        raise NotFound()
    require_reviewer_of(coop.county_id, department)   # the API route's own check
    raw = (request.form.get("score") or "").strip()
    if not (raw.isascii() and raw.isdigit()) or not 0 <= int(raw) <= 100:
        raise ValidationFailed("分数应为 0 到 100 的整数", errors={"score": ["0..100"]})
    opinion = (request.form.get("opinion") or "").strip()[:2000]
    evaluations.set_score(db.session, current_user(), coop, year, department, int(raw), opinion)
    return _done(f"已保存“{coop.name}”的评分", "console.evaluations_page", year=year,
                 page=request.args.get("page", 1))


# --- reward rounds --------------------------------------------------------------------------

@bp.route("/reward-rounds")
@access(COUNTY)
def reward_rounds():
    stmt = scoped(select(RewardRound), RewardRound, COUNTY)
    stmt, sort = _sorted(stmt, {"id": RewardRound.id, "year": RewardRound.year,
                                "total": RewardRound.total_fen}, "-id")
    return render_template("console/reward_rounds.html", sort=sort,
                           page=paginate(db.session, stmt, _page(), PER_PAGE))


@bp.route("/reward-rounds/<int:reward_round_id>")
@access(COUNTY, RewardRound, "reward_round_id")
def reward_round(reward_round):
    lines = rewards.round_lines(db.session, reward_round)
    return render_template(
        "console/reward_round.html", rnd=reward_round, lines=lines,
        coops=_names(Cooperative, [x.cooperative_id for x in lines]),
        villages=_names(Village, [x.village_id for x in lines]),
        people=_names(User, [reward_round.created_by, reward_round.decided_by]),
        is_finance=bool(grants_for(COUNTY_FINANCE)) or caller().is_superuser, me=caller().id)


@bp.route("/reward-rounds/<int:reward_round_id>/approve", methods=["POST"])
@access(COUNTY_FINANCE, RewardRound, "reward_round_id")
def approve_round(reward_round):
    rewards.approve_round(db.session, current_user(), reward_round)
    return _done("奖励轮次已批准，发放批次已生成", "console.reward_round",
                 reward_round_id=reward_round.id)


@bp.route("/reward-rounds/<int:reward_round_id>/reject", methods=["POST"])
@access(COUNTY_FINANCE, RewardRound, "reward_round_id")
def reject_round(reward_round):
    reason = _form_text("reason", "驳回理由", 255)
    rewards.close_round(db.session, current_user(), reward_round, "rejected", reason)
    return _done("奖励轮次已驳回", "console.reward_round", reward_round_id=reward_round.id)


# --- cooperatives ---------------------------------------------------------------------------

@bp.route("/cooperatives")
@access(COUNTY)
def cooperatives():
    status = request.args.get("status") or None
    status = status if status in COOP_STATUSES else None
    town_id = request.args.get("town_id", type=int)
    q = (request.args.get("q") or "").strip()[:64] or None
    stmt = filter_cooperatives(select(Cooperative), town_id=town_id, status=status, q=q)
    stmt, sort = _sorted(scoped(stmt.order_by(None), Cooperative, COUNTY),
                         {"id": Cooperative.id, "name": Cooperative.name,
                          "status": Cooperative.status}, "id")
    page = paginate(db.session, stmt, _page(), PER_PAGE)
    towns = list(db.session.execute(scoped(select(Town), Town, COUNTY)
                                    .order_by(Town.id)).scalars())
    return render_template("console/cooperatives.html", page=page, sort=sort, towns=towns,
                           statuses=COOP_STATUSES, q=q or "", status=status or "",
                           town_id=town_id, town_names={t.id: t.name for t in towns})


@bp.route("/cooperatives/<int:coop_id>")
@access(COUNTY, Cooperative, "coop_id")
def cooperative(coop):
    page = members.members_page(db.session, coop.id, _page(), PER_PAGE)
    # The API's member view for a county role: ID card and account masked, phone masked.
    page["items"] = [members.member_view(m, False) for m in page["items"]]
    batches = list(db.session.execute(
        select(PayoutBatch).where(PayoutBatch.cooperative_id == coop.id)
        .order_by(PayoutBatch.id.desc()).limit(20)).scalars())
    return render_template("console/cooperative.html", coop=coop, page=page, batches=batches,
                           town=db.session.get(Town, coop.town_id),
                           village=db.session.get(Village, coop.village_id))


# --- payout batches -------------------------------------------------------------------------

@bp.route("/payout-batches/<int:batch_id>")
@access(COUNTY, PayoutBatch, "batch_id")
def payout_batch(batch):
    stmt = select(PayoutLine).where(PayoutLine.batch_id == batch.id)
    status = request.args.get("status") or ""
    if status:
        stmt = stmt.where(PayoutLine.status == status)
    stmt, sort = _sorted(stmt, {"id": PayoutLine.id, "amount": PayoutLine.amount_fen,
                                "status": PayoutLine.status}, "id")
    page = paginate(db.session, stmt, _page(), PER_PAGE)
    return render_template("console/payout_batch.html", batch=with_totals(db.session, batch),
                           page=page, sort=sort, status=status)


@bp.route("/payout-batches/<int:batch_id>/bank-file")
@access(COUNTY_FINANCE, PayoutBatch, "batch_id")
def bank_file(batch):
    """The API's own view, policy and all (the payer's file: county_finance for the
    county's batches, never a cooperative's)."""
    return BatchBankFile().get(batch_id=batch.id)


@bp.route("/payout-batches/<int:batch_id>/results", methods=["POST"])
@access(COUNTY_MONEY, PayoutBatch, "batch_id")
def bank_return(batch):
    """The bank's return file (.csv/.xlsx) through the API's own view: its payer check,
    parser and settlement; all rows or none, a refusal naming every bad row."""
    if not request.files.get("file"):
        raise ValidationFailed("请选择银行回单文件（.csv 或 .xlsx）", errors={"file": ["必填"]})
    BatchResults().post(batch_id=batch.id)
    return _done("银行回单已导入", "console.payout_batch", batch_id=batch.id)


@bp.route("/payout-lines/<int:line_id>/account", methods=["POST"])
@access(COUNTY_MONEY, PayoutLine, "line_id")
def line_account(line):
    """Give a held or failed line the payee's account: it is pending again (the batch's
    payer only, as PATCH /payout-lines/{id})."""
    _require_payer(db.session.get(PayoutBatch, line.batch_id))
    settlement.fix_account(db.session, current_user(), line,
                           (request.form.get("bank_name") or "").strip(),
                           (request.form.get("bank_account") or "").strip())
    return _done(f"已为第 {line.id} 行登记账户，待发放", "console.payout_batch",
                 batch_id=line.batch_id)


# --- dashboard, reports, audit ----------------------------------------------------------

@bp.route("/dashboard")
@access(COUNTY)
def dashboard_page():
    county = _county_from_query()
    year = _year()
    thresholds = current_app.config.get("REPORTS_INCOME_THRESHOLDS_FEN",
                                        DEFAULT_INCOME_THRESHOLDS_FEN)
    figures = dashboard(db.session, county, year, clock.today(), thresholds)
    return render_template("console/dashboard.html", county=county, year=year, d=figures,
                           counties=_my_counties())


@bp.route("/reports")
@access(COUNTY)
def reports():
    return render_template("console/reports.html", counties=_my_counties(),
                           towns=list(db.session.execute(scoped(select(Town), Town, COUNTY)
                                                         .order_by(Town.id)).scalars()),
                           year=_year(clock.today().year - 1))


@bp.route("/reports/payouts")
@access(COUNTY)
def report_download():
    scope = request.args.get("scope")
    fmt = request.args.get("format")
    obj_id = request.args.get("id", type=int)
    if scope not in ("county", "town") or fmt not in ("csv", "xlsx", "pdf") or not obj_id:
        raise ValidationFailed("请选择范围、对象和格式")
    return payout_report_file(scope, scope_object(scope, obj_id), _year(), fmt)


@bp.route("/audit")
@access(COUNTY_ADMIN)
def audit():
    object_type = request.args.get("object_type") or ""
    object_id = (request.args.get("object_id") or "").strip()
    page = None
    if object_type:
        if object_type not in SCOPED_TYPES and object_type != "user":
            raise NotFound()
        check_audit_scope(object_type, object_id or None)
        stmt = select(AuditEntry).where(AuditEntry.object_type == object_type)
        if object_id:
            stmt = stmt.where(AuditEntry.object_id == object_id)
        page = paginate(db.session, stmt.order_by(*TRAIL_ORDER), _page(), PER_PAGE)
        page["items"] = [entry_to_dict(e) for e in page["items"]]
    actors = _names(User, [e["actor_id"] for e in page["items"]]) if page else {}
    return render_template("console/audit.html", page=page, object_type=object_type,
                           object_id=object_id, types=sorted(SCOPED_TYPES), actors=actors)


@bp.route("/<path:anything>")
@access(COUNTY)
def unknown(anything):
    """Any other address under /console/: the console's 404 page (not the API's JSON)."""
    raise NotFound()
