"""HTTP routes of the distribution capability: parse, call the service, serialize."""
from __future__ import annotations

from flask import current_app, request, url_for
from flask.views import MethodView
from marshmallow import ValidationError
from sqlalchemy import select

from auth.policy import COOP_READ, COOP_WRITE, MEMBER_READ, access, current_user
from coop.api import Blueprint
import coop.clock as clock
from coop.distribution import governance, services, trades
from coop.distribution.account import member_account
from coop.distribution.disclosure import PUBLIC_STATES
from coop.distribution.payout import pay_plan
from coop.distribution.models import DistributionLine, DistributionPlan, Trade
from coop.distribution.schemas import (AnnualAccountIn, AnnualAccountOut, AssemblyIn,
                                       DistributionLineOut, DistributionPlanIn,
                                       DistributionPlanOut, PublishIn,
                                       TradeImportOut, TradeIn, TradeListArgs, TradeOut)
from coop.errors import DomainError, NotFound, ValidationFailed
from coop.extensions import db
from coop.fields import NoBodyIn
from coop.idempotency import idempotent
from coop.pagination import PageArgs, page_schema, paginate
from coop.payouts.schemas import PayoutBatchOut
from coop.payouts.services import batch_for, with_totals
from coop.registry.models import Cooperative, Member
from coop.shares.schemas import MemberAccountArgs, MemberAccountOut
from coop.validators import check_year

blp = Blueprint("distribution", __name__, url_prefix="/api/v1", description="年度盈余分配")


# ---- annual accounts and trades -------------------------------------------------------

def _account_out(account, coop_id: int, year: int):
    account.locked = services.year_is_locked(db.session, coop_id, year)
    return account


@blp.route("/cooperatives/<int:coop_id>/years/<int:year>")
class Year(MethodView):
    @access(COOP_READ, Cooperative, "coop_id")
    @blp.response(200, AnnualAccountOut)
    def get(self, coop, year):
        """The cooperative's annual account (年度账目) for `year`."""
        check_year(year)
        account = services.get_account(db.session, coop.id, year)
        if account is None:
            raise NotFound(f"{year} 年度账目尚未录入")
        return _account_out(account, coop.id, year)

    @access(COOP_WRITE, Cooperative, "coop_id")
    @blp.arguments(AnnualAccountIn)
    @blp.response(200, AnnualAccountOut)
    def put(self, data, coop, year):
        """Create or replace the annual account; 409 once the year's plan is approved."""
        account = services.put_account(db.session, current_user(), coop, year, data)
        return _account_out(account, coop.id, year)


TRADES_BODY = {"required": True, "content": {
    "application/json": {"schema": {"type": "array", "items": TradeIn}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}}}},
}}


def _trade_rows(coop: Cooperative) -> list[tuple[str, dict]]:
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ValidationFailed("请上传文件", errors={"file": ["缺少文件"]})
        return trades.rows_from_file(db.session, coop, upload.filename, upload.read())
    data = request.get_json(force=True, silent=True)
    if data is None:
        raise DomainError("请求体不是合法的 JSON", status=400, code="MALFORMED_REQUEST")
    if not isinstance(data, list):
        raise ValidationFailed("请求体须为交易数组", errors={"_schema": ["须为数组"]})
    try:
        loaded = TradeIn(many=True).load(data)
    except ValidationError as exc:
        raise ValidationFailed("交易记录有误，未导入任何一行", errors=exc.messages) from exc
    return [(str(i), row) for i, row in enumerate(loaded)]


@blp.route("/cooperatives/<int:coop_id>/years/<int:year>/trades")
class Trades(MethodView):
    @access(COOP_READ, Cooperative, "coop_id")
    @blp.arguments(TradeListArgs, location="query")
    @blp.response(200, page_schema(TradeOut))
    def get(self, args, coop, year):
        """The year's trades, oldest first (optionally one member's)."""
        check_year(year)
        stmt = (select(Trade, Member.name).join(Member, Member.id == Trade.member_id)
                .where(Trade.cooperative_id == coop.id, Trade.year == year)
                .order_by(Trade.occurred_on, Trade.id))
        if args.get("member_id"):
            stmt = stmt.where(Trade.member_id == args["member_id"])
        page = paginate(db.session, stmt, args["page"], args["per_page"], scalars=False)
        page["items"] = [dict(id=t.id, member_id=t.member_id, member_name=name,
                              amount_fen=t.amount_fen, occurred_on=t.occurred_on, note=t.note,
                              created_at=t.created_at) for t, name in page["items"]]
        return page

    @access(COOP_WRITE, Cooperative, "coop_id")
    @blp.doc(requestBody=TRADES_BODY)
    @blp.response(201, TradeImportOut)
    def post(self, coop, year):
        """Import trades: a JSON array or a .csv/.xlsx `file`; all rows or none."""
        check_year(year)
        values = trades.import_trades(db.session, current_user(), coop, year, _trade_rows(coop))
        return {"year": year, "count": len(values),
                "amount_fen": sum(v["amount_fen"] for v in values)}


# ---- plans ----------------------------------------------------------------------------

def _plan_out(plan: DistributionPlan) -> DistributionPlan:
    # On the configured base, never the request's Host header (which any caller sets).
    plan.public_url = (current_app.config["PUBLIC_BASE_URL"]
                       + url_for("distribution_disclosure.notice", token=plan.public_token)
                       if plan.public_token and plan.status in PUBLIC_STATES else None)
    batch = batch_for(db.session, "distribution", plan.id) if plan.status == "paid" else None
    plan.payout_batch_id = batch.id if batch else None
    return plan


@blp.route("/cooperatives/<int:coop_id>/distributions")
class Plans(MethodView):
    @access(COOP_READ, Cooperative, "coop_id")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(DistributionPlanOut))
    def get(self, args, coop):
        """The cooperative's plans, newest first."""
        stmt = (select(DistributionPlan).where(DistributionPlan.cooperative_id == coop.id)
                .order_by(DistributionPlan.year.desc(), DistributionPlan.id.desc()))
        page = paginate(db.session, stmt, args["page"], args["per_page"])
        page["items"] = [_plan_out(p) for p in page["items"]]
        return page

    @access(COOP_WRITE, Cooperative, "coop_id")
    @blp.arguments(DistributionPlanIn)
    @blp.response(201, DistributionPlanOut)
    def post(self, data, coop):
        """Compute a draft plan by the charter's method (statutory or by_shares)."""
        plan = services.create_plan(db.session, current_user(), coop, data["year"],
                                    data["reserve_rate"], data["patronage_rate"])
        return _plan_out(plan)


@blp.route("/distributions/<int:plan_id>")
class Plan(MethodView):
    @access(COOP_READ, DistributionPlan, "plan_id")
    @blp.response(200, DistributionPlanOut)
    def get(self, plan):
        return _plan_out(plan)


@blp.route("/distributions/<int:plan_id>/lines")
class PlanLines(MethodView):
    @access(COOP_READ, DistributionPlan, "plan_id")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(DistributionLineOut))
    def get(self, args, plan):
        """Each member's line, by member id."""
        stmt = (select(DistributionLine, Member.name)
                .join(Member, Member.id == DistributionLine.member_id)
                .where(DistributionLine.plan_id == plan.id)
                .order_by(DistributionLine.member_id))
        page = paginate(db.session, stmt, args["page"], args["per_page"], scalars=False)
        page["items"] = [_line_out(line, name) for line, name in page["items"]]
        return page


LINE_FIELDS = ("id", "member_id", "is_collective", "capital_fen", "trade_fen", "share_basis_fen",
               "reserve_share_fen", "subsidy_share_fen", "patronage_fen", "share_fen",
               "total_fen", "convert_fen")


def _line_out(line: DistributionLine, name: str) -> dict:
    out = {field: getattr(line, field) for field in LINE_FIELDS}
    out.update(name=name, payout_fen=line.total_fen - line.convert_fen)
    return out


@blp.route("/distributions/<int:plan_id>/submit")
class Submit(MethodView):
    @access(COOP_WRITE, DistributionPlan, "plan_id")
    @blp.arguments(NoBodyIn, required=False)
    @blp.response(200, DistributionPlanOut)
    def post(self, _, plan):
        """draft → submitted."""
        return _plan_out(governance.submit(db.session, current_user(), plan))


@blp.route("/distributions/<int:plan_id>/record-assembly")
class RecordAssembly(MethodView):
    @access(COOP_WRITE, DistributionPlan, "plan_id")
    @blp.arguments(AssemblyIn)
    @blp.response(200, DistributionPlanOut)
    def post(self, data, plan):
        """submitted → assembly_approved, or rejected without a majority of all votes."""
        conversions = data.pop("conversions")
        return _plan_out(governance.record_assembly(db.session, current_user(), plan, data,
                                                    conversions))


@blp.route("/distributions/<int:plan_id>/publish")
class Publish(MethodView):
    @access(COOP_WRITE, DistributionPlan, "plan_id")
    @blp.arguments(PublishIn)
    @blp.response(200, DistributionPlanOut)
    def post(self, data, plan):
        """assembly_approved → publicized; the answer carries the notice's `public_url`."""
        min_days = current_app.config["DISCLOSURE_MIN_DAYS"]
        return _plan_out(governance.publish(db.session, current_user(), plan,
                                            data["notice_days"], min_days))


@blp.route("/distributions/<int:plan_id>/approve")
class Approve(MethodView):
    @access(COOP_WRITE, DistributionPlan, "plan_id")
    @idempotent
    @blp.arguments(NoBodyIn, required=False)
    @blp.response(200, DistributionPlanOut)
    def post(self, _, plan):
        """publicized → approved, once the notice period is over."""
        return _plan_out(governance.approve(db.session, current_user(), plan))


@blp.route("/distributions/<int:plan_id>/cancel")
class Cancel(MethodView):
    @access(COOP_WRITE, DistributionPlan, "plan_id")
    @blp.arguments(NoBodyIn, required=False)
    @blp.response(200, DistributionPlanOut)
    def post(self, _, plan):
        """Withdraw a plan that is not approved yet."""
        return _plan_out(governance.cancel(db.session, current_user(), plan))


@blp.route("/distributions/<int:plan_id>/payout-batch")
class PlanPayoutBatch(MethodView):
    @access(COOP_WRITE, DistributionPlan, "plan_id")
    @idempotent
    @blp.arguments(NoBodyIn, required=False)
    @blp.response(201, PayoutBatchOut)
    def post(self, _, plan):
        """The approved plan's payout batch (one per plan); the plan becomes `paid`."""
        return with_totals(db.session, pay_plan(db.session, current_user(), plan))


@blp.route("/members/<int:member_id>/account", methods=["GET"])
@access(MEMBER_READ, Member, "member_id")
@blp.arguments(MemberAccountArgs, location="query")
@blp.response(200, MemberAccountOut)
def account(args, member):
    """The member account (成员账户, Art. 43): contribution by kind, reserve-fund share,
    transaction volume, quantified subsidy share, distributions received."""
    return member_account(db.session, member, args.get("year"), clock.today())
