"""HTTP routes of the county capability: parse, call the service, serialize.

Who (CONTRACT §7): collective income, reward rules and programs — county_admin or
county_finance; reward rounds and subsidy decisions — county_finance; scores — a
county_reviewer of that department; applications — the cooperative's coop_manager;
county roles read (and a cooperative's own roles read its applications).
"""
from flask.views import MethodView
from sqlalchemy import select

from auth.models import DEPARTMENTS
from auth.policy import (COOP_READ, COOP_WRITE, COUNTY, COUNTY_FINANCE, COUNTY_MONEY, access,
                         caller, current_user, grants_for, in_scope, require_reviewer_of,
                         scope_of)
import coop.clock as clock
from coop.api import Blueprint
from coop.county import evaluations, programs, rewards, subsidies
from coop.county.income import (dividends, income_breakdown, income_by_year,
                                set_entered_income)
from coop.county.models import Program, RewardLine, RewardRound, SubsidyApplication
from coop.county.schemas import (CollectiveIncomeIn, CollectiveIncomeOut, CountyReasonIn,
                                 EvaluationOut, EvaluationScoreIn, EvaluationScoreOut,
                                 IncomeYearOut, ProgramIn, ProgramListArgs, ProgramOut,
                                 RewardLineOut, RewardRoundDetailOut, RewardRoundIn,
                                 RewardRoundListArgs, RewardRoundOut, RewardRulesIn,
                                 RewardRulesOut, RewardsArgs, SubsidyApplicationIn,
                                 SubsidyApplicationListArgs, SubsidyApplicationOut,
                                 SubsidyApproveIn, SubsidyDisburseIn)
from coop.errors import NotFound
from coop.extensions import db
from coop.fields import NoBodyIn
from coop.idempotency import idempotent
from coop.pagination import PageArgs, page_schema, paginate
from coop.places.models import County, Village
from coop.registry.models import Cooperative
from coop.validators import check_year

blp = Blueprint("county", __name__, url_prefix="/api/v1", description="县级考核、奖励与补助")

REVIEWER = ("county_reviewer",)
# What a cooperative's manager reads of the county side (CONTRACT §10, last bullet).
COUNTY_OR_MANAGER = COUNTY + COOP_WRITE


def _managed_cooperatives() -> list[Cooperative]:
    ids = [g.scope_id for g in grants_for(COOP_WRITE) if g.scope_type == "cooperative"]
    if not ids:
        return []
    return list(db.session.execute(select(Cooperative).where(Cooperative.id.in_(ids))).scalars())


def _readable(model, obj_id: int, attr: str):
    """The object if a county role covers it, or a cooperative the caller manages has
    `attr` equal to its id (its village, its county); else 404."""
    obj = db.session.get(model, obj_id)
    if obj is None:
        raise NotFound()
    if caller().is_superuser or in_scope(obj, COUNTY):
        return obj
    if any(getattr(c, attr) == obj.id for c in _managed_cooperatives()):
        return obj
    raise NotFound()


def _income(session, village: Village, year: int, items) -> dict:
    amount = items[0].amount_fen if items else None
    return {"village_id": village.id, "year": year, "items": items, "amount_fen": amount,
            "total_fen": amount or 0,
            "cooperative_dividends_fen": dividends(session, village.id).get(year, 0)}


@blp.route("/villages/<int:village_id>/collective-income")
@access(COUNTY_OR_MANAGER)
@blp.response(200, IncomeYearOut(many=True))
def collective_income_years(village_id):
    """村集体收入 by year: the entered figure (null where none was entered) and, beside
    it, the dividends paid plans gave the village's collective member (never added)."""
    village = _readable(Village, village_id, "village_id")
    return income_by_year(db.session, village)


@blp.route("/villages/<int:village_id>/collective-income/<int:year>")
class CollectiveIncome(MethodView):
    @access(COUNTY, Village, "village_id")
    @blp.response(200, CollectiveIncomeOut)
    def get(self, village, year):
        """村集体收入 of a year: the entered figure, with the dividends beside it."""
        check_year(year)
        return _income(db.session, village, year,
                       income_breakdown(db.session, village.id, year))

    @access(COUNTY_MONEY, Village, "village_id")
    @blp.arguments(CollectiveIncomeIn)
    @blp.response(200, CollectiveIncomeOut)
    def put(self, body, village, year):
        """Enter (or replace) the county's figure for the year."""
        items = set_entered_income(db.session, current_user(), village, year,
                                   body["amount_fen"])
        return _income(db.session, village, year, items)


@blp.route("/cooperatives/<int:coop_id>/evaluations/<int:year>/scores/<department>")
class EvaluationScore(MethodView):
    @access(REVIEWER, Cooperative, "coop_id")
    @blp.arguments(EvaluationScoreIn)
    @blp.response(200, EvaluationScoreOut)
    def put(self, body, coop, year, department):
        """One department's score (whole points 0..100) and opinion."""
        if department not in DEPARTMENTS:
            raise NotFound()
        require_reviewer_of(coop.county_id, department)
        return evaluations.set_score(db.session, current_user(), coop, year, department,
                                     body["score"], body["opinion"])


@blp.route("/cooperatives/<int:coop_id>/evaluations/<int:year>")
@access(COUNTY_OR_MANAGER, Cooperative, "coop_id")
@blp.response(200, EvaluationOut)
def evaluation(coop, year):
    """Scores, missing departments and the grade under the county's rules."""
    return evaluations.evaluation(db.session, coop, year)


@blp.route("/counties/<int:county_id>/reward-rules/<int:year>")
class RewardRules(MethodView):
    @access(COUNTY_OR_MANAGER)
    @blp.response(200, RewardRulesOut)
    def get(self, county_id, year):
        """The year's reward rules (a cooperative's manager reads his own county's)."""
        county = _readable(County, county_id, "county_id")
        check_year(year)
        rule = evaluations.rule_for(db.session, county.id, year)
        if rule is None:
            raise NotFound("该年度尚未设定奖励规则")
        return rule

    @access(COUNTY_MONEY, County, "county_id")
    @blp.arguments(RewardRulesIn)
    @blp.response(200, RewardRulesOut)
    def put(self, body, county, year):
        """奖励办法: award, rates, grade thresholds and the paying program."""
        return rewards.set_rules(db.session, current_user(), county, year, body)


def _round_detail(rnd: RewardRound) -> dict:
    data = {name: getattr(rnd, name) for name in RewardRoundOut().fields}
    data["lines"] = rewards.round_lines(db.session, rnd)
    return data


@blp.route("/counties/<int:county_id>/reward-rounds")
class RewardRounds(MethodView):
    @access(COUNTY, County, "county_id")
    @blp.arguments(RewardRoundListArgs, location="query")
    @blp.response(200, page_schema(RewardRoundOut))
    def get(self, args, county):
        stmt = select(RewardRound).where(RewardRound.county_id == county.id)
        if "year" in args:
            stmt = stmt.where(RewardRound.year == args["year"])
        return paginate(db.session, stmt.order_by(RewardRound.id.desc()),
                        args["page"], args["per_page"])

    @access(COUNTY_FINANCE, County, "county_id")
    @idempotent
    @blp.arguments(RewardRoundIn)
    @blp.response(201, RewardRoundDetailOut)
    def post(self, body, county):
        """Compute a draft round for the year's excellent cooperatives."""
        rnd = rewards.create_round(db.session, current_user(), county, body["year"])
        return _round_detail(rnd)


@blp.route("/reward-rounds/<int:reward_round_id>")
@access(COUNTY, RewardRound, "reward_round_id")
@blp.response(200, RewardRoundDetailOut)
def reward_round(reward_round):
    return _round_detail(reward_round)


@blp.route("/reward-rounds/<int:reward_round_id>/lines")
@access(COUNTY, RewardRound, "reward_round_id")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(RewardLineOut))
def reward_round_lines(args, reward_round):
    """Each line with its basis: income, prior income, increase, rate, payee and why."""
    stmt = select(RewardLine).where(RewardLine.round_id == reward_round.id)
    return paginate(db.session, stmt.order_by(RewardLine.id), args["page"], args["per_page"])


@blp.route("/cooperatives/<int:coop_id>/rewards")
@access(COOP_READ, Cooperative, "coop_id")
@blp.arguments(RewardsArgs, location="query")
@blp.response(200, page_schema(RewardLineOut))
def cooperative_rewards(args, coop):
    """The cooperative's award and its people's lines in approved rounds."""
    stmt = (select(RewardLine).join(RewardRound, RewardRound.id == RewardLine.round_id)
            .where(RewardLine.cooperative_id == coop.id,
                   RewardRound.status == "approved"))
    if "year" in args:
        stmt = stmt.where(RewardRound.year == args["year"])
    return paginate(db.session, stmt.order_by(RewardLine.id), args["page"], args["per_page"])


@blp.route("/reward-rounds/<int:reward_round_id>/approve", methods=["POST"])
@access(COUNTY_FINANCE, RewardRound, "reward_round_id")
@idempotent
@blp.arguments(NoBodyIn, required=False)
@blp.response(200, RewardRoundDetailOut)
def approve_round(_, reward_round):
    """Approve (not by the creator): reserve the budget, write the payout batch."""
    return _round_detail(rewards.approve_round(db.session, current_user(), reward_round))


@blp.route("/reward-rounds/<int:reward_round_id>/reject", methods=["POST"])
@access(COUNTY_FINANCE, RewardRound, "reward_round_id")
@blp.arguments(CountyReasonIn)
@blp.response(200, RewardRoundDetailOut)
def reject_round(body, reward_round):
    return _round_detail(rewards.close_round(db.session, current_user(), reward_round, "rejected",
                                             body["reason"]))


@blp.route("/reward-rounds/<int:reward_round_id>/cancel", methods=["POST"])
@access(COUNTY_FINANCE, RewardRound, "reward_round_id")
@blp.arguments(CountyReasonIn)
@blp.response(200, RewardRoundDetailOut)
def cancel_round(body, reward_round):
    return _round_detail(rewards.close_round(db.session, current_user(), reward_round, "cancelled",
                                             body["reason"]))


@blp.route("/counties/<int:county_id>/programs")
class Programs(MethodView):
    @access(COUNTY_OR_MANAGER)
    @blp.arguments(ProgramListArgs, location="query")
    @blp.response(200, page_schema(ProgramOut))
    def get(self, args, county_id):
        """The county's programs; `open=true`: those accepting applications this year
        (all a cooperative's manager may list: name, years, budget, available)."""
        county = _readable(County, county_id, "county_id")
        stmt = select(Program).where(Program.county_id == county.id).order_by(Program.id.desc())
        if args.get("open") or not (caller().is_superuser or in_scope(county, COUNTY)):
            stmt = programs.open_programs(stmt, clock.today().year)
        return paginate(db.session, stmt, args["page"], args["per_page"])

    @access(COUNTY_MONEY, County, "county_id")
    @idempotent
    @blp.arguments(ProgramIn)
    @blp.response(201, ProgramOut)
    def post(self, body, county):
        """专项资金: a budgeted program of the county."""
        return programs.create_program(db.session, current_user(), county, **body)


@blp.route("/programs/<int:program_id>")
@access(COUNTY, Program, "program_id")
@blp.response(200, ProgramOut)
def program(program):
    """Budget, committed, disbursed and available, in fen."""
    return program


@blp.route("/cooperatives/<int:coop_id>/subsidy-applications", methods=["POST"])
@access(COOP_WRITE, Cooperative, "coop_id")
@idempotent
@blp.arguments(SubsidyApplicationIn)
@blp.response(201, SubsidyApplicationOut)
def submit_application(body, coop):
    return subsidies.submit_application(db.session, current_user(), coop, **body)


@blp.route("/subsidy-applications")
@access(COOP_READ)
@blp.arguments(SubsidyApplicationListArgs, location="query")
@blp.response(200, page_schema(SubsidyApplicationOut))
def applications(args):
    """Applications in the caller's scope, newest first, filtered in SQL."""
    return subsidies.applications_page(db.session, args.get("county_id"), args.get("status"),
                                       scope_of(SubsidyApplication), args["page"],
                                       args["per_page"])


@blp.route("/subsidy-applications/<int:application_id>")
@access(COOP_READ, SubsidyApplication, "application_id")
@blp.response(200, SubsidyApplicationOut)
def application(application):
    return application


@blp.route("/subsidy-applications/<int:application_id>/approve", methods=["POST"])
@access(COUNTY_FINANCE, SubsidyApplication, "application_id")
@idempotent
@blp.arguments(SubsidyApproveIn, required=False)
@blp.response(200, SubsidyApplicationOut)
def approve_application(body, application):
    """Approve (all, or `amount_fen` ≤ the amount applied for) and reserve the budget
    atomically (422 BUDGET_EXCEEDED, RECIPIENT_CAP_EXCEEDED); never by its creator."""
    return subsidies.approve_application(db.session, current_user(), application,
                                         (body or {}).get("amount_fen"))


@blp.route("/subsidy-applications/<int:application_id>/reject", methods=["POST"])
@access(COUNTY_FINANCE, SubsidyApplication, "application_id")
@blp.arguments(CountyReasonIn)
@blp.response(200, SubsidyApplicationOut)
def reject_application(body, application):
    return subsidies.reject_application(db.session, current_user(), application,
                                        body["reason"])


@blp.route("/subsidy-applications/<int:application_id>/disburse", methods=["POST"])
@access(COUNTY_FINANCE, SubsidyApplication, "application_id")
@idempotent
@blp.arguments(SubsidyDisburseIn)
@blp.response(200, SubsidyApplicationOut)
def disburse_application(body, application):
    """Record the payment (not by the approver) and write its payout line."""
    return subsidies.disburse_application(db.session, current_user(), application,
                                          body["paid_on"], body["bank_ref"])
