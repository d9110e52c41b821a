"""HTTP routes of the reports capability: parse, call the service, serialize.

`/reports/payouts` and `/reports/dashboard` name their scope object in the query string,
so they declare the roles with `@access(roles)` and load the object with `load_scoped`
(404 outside the caller's scope). `/me/*` serve the member behind the caller's `member`
grants. The CLI (`flask reports payouts`) lives in coop/reports/cli.py.
"""
from __future__ import annotations

import tempfile
from urllib.parse import quote

from flask import current_app, send_file
from marshmallow import Schema, fields

from auth.policy import (ANY_USER, CITY, COOP_WRITE, COUNTY, access, caller, grants_for,
                         load_scoped)
import coop.clock as clock
from coop.api import Blueprint
from coop.errors import Forbidden, ServiceUnavailable
from coop.extensions import db
from coop.pagination import page_schema
from coop.places.cities import City, counties_of
from coop.places.models import County, Town
from coop.registry.models import Cooperative
from coop.reports import me, tasks
from coop.reports.dashboard import DEFAULT_INCOME_THRESHOLDS_FEN, city_dashboard, dashboard
from coop.reports.exporters import CONTENT_TYPES, export
from coop.reports.figures import with_county_figures
from coop.reports.payouts_report import lines_page, payout_totals, report_rows, scope_of
from coop.reports.pdf_export import CJKFontMissing
from coop.reports.schemas import (DashboardArgs, DashboardOut, MyAccountArgs, MyAccountOut,
                                  MyPayoutArgs, MyPayoutOut, MySharesArgs, MySharesOut,
                                  PayoutReportArgs, PayoutReportOut)

blp = Blueprint("reports", __name__, url_prefix="/api/v1", description="报表与个人查询")

MEMBER = ("member",)
REPORT_ROLES = COUNTY + COOP_WRITE
# Who may ask for which scope: county roles for their county's towns; a cooperative's
# manager (or the county) for one cooperative.
# A city's report: its city_viewer (whose grant covers each county of the city too).
SCOPE_ROLES = {"county": COUNTY, "town": COUNTY, "cooperative": REPORT_ROLES, "city": CITY}
SCOPE_MODELS = {"county": County, "town": Town, "cooperative": Cooperative, "city": City}
FILE_DOC = {"responses": {"200": {"description": "报表", "content": {
    "application/json": {"schema": PayoutReportOut},
    CONTENT_TYPES["csv"].split(";")[0]: {"schema": {"type": "string"}},
    CONTENT_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
    CONTENT_TYPES["pdf"]: {"schema": {"type": "string", "format": "binary"}},
}}}}


def scope_object(scope: str, obj_id: int):
    roles = SCOPE_ROLES[scope]
    if not grants_for(roles) and not caller().is_superuser:
        raise Forbidden("您的角色不能查看该范围的报表")
    return load_scoped(SCOPE_MODELS[scope], obj_id, roles)


def _attachment(stem_ascii: str, stem_display: str, ext: str) -> str:
    """RFC 6266 / RFC 5987: an ASCII fallback and the UTF-8 (Chinese) name."""
    return (f'attachment; filename="{stem_ascii}.{ext}"; '
            f"filename*=UTF-8''{quote(f'{stem_display}.{ext}', safe='')}")


@blp.route("/reports/payouts", methods=["GET"])
@access(REPORT_ROLES)
@blp.arguments(PayoutReportArgs, location="query")
@blp.response(200, PayoutReportOut)
@blp.doc(**FILE_DOC)
def payouts_report(args):
    """Payout report (发放报表) of a county, town or cooperative for a year: every line
    with source, status and bank reference, subtotals per cooperative and town, totals.
    `format=json` pages through the lines; csv (UTF-8 with BOM), xlsx and pdf hold all."""
    obj = scope_object(args["scope"], args["id"])
    if args["format"] == "json":
        report = scope_of(db.session, args["scope"], obj, args["year"])
        return {"scope": report.scope, "scope_id": report.scope_id, "name": report.name,
                "county_id": report.county_id, "year": report.year,
                **payout_totals(db.session, report).as_dict(),
                **lines_page(db.session, report, args["page"], args["per_page"])}
    return payout_report_file(args["scope"], obj, args["year"], args["format"])


def payout_report_file(scope: str, obj, year: int, fmt: str):
    """The payout report of `obj` (already scope-checked) as a csv, xlsx or pdf download:
    the API's and the console's (coop/console) one way of writing it."""
    report = scope_of(db.session, scope, obj, year)
    if fmt == "xlsx":
        report = with_county_figures(db.session, report, clock.today())
    fh = tempfile.TemporaryFile()
    try:
        export(fmt, report, report_rows(db.session, report), fh)
    except CJKFontMissing as exc:
        fh.close()
        current_app.logger.error("pdf report without a CJK font: %s", exc)
        raise ServiceUnavailable("服务器未安装中文字体，暂不能生成 PDF",
                                 code="PDF_FONT_MISSING") from exc
    except BaseException:
        fh.close()
        raise
    fh.seek(0)
    response = send_file(fh, mimetype=CONTENT_TYPES[fmt], max_age=0)
    response.headers["Content-Type"] = CONTENT_TYPES[fmt]  # send_file would add a charset
    response.headers["Content-Disposition"] = _attachment(report.file_stem,
                                                          report.display_stem, fmt)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.route("/reports/dashboard", methods=["GET"])
@access(COUNTY)
@blp.arguments(DashboardArgs, location="query")
@blp.response(200, DashboardOut)
def county_dashboard(args):
    """The county dashboard (县级看板): cooperatives by status, villages by collective
    income, wages and labour-days, payouts by source, cross-appointment, zone income, and
    `figures`, the ones the county reports publish (docs/figures.md). With `city_id`
    instead: those figures for each county of the city and their total."""
    thresholds = current_app.config.get("REPORTS_INCOME_THRESHOLDS_FEN",
                                        DEFAULT_INCOME_THRESHOLDS_FEN)
    if "city_id" in args:
        city = load_scoped(City, args["city_id"])
        return city_dashboard(db.session, city, counties_of(db.session, city), args["year"],
                              clock.today(), thresholds, args.get("baseline_year"))
    county = load_scoped(County, args["county_id"])
    return dashboard(db.session, county, args["year"], clock.today(), thresholds,
                     args.get("baseline_year"))


def _my_member_ids() -> list[int]:
    ids = [grant.scope_id for grant in grants_for(MEMBER)]
    if not ids:
        raise Forbidden("仅成员本人可查看")
    return ids


@blp.route("/me/shares", methods=["GET"])
@access(MEMBER)
@blp.arguments(MySharesArgs, location="query")
@blp.response(200, MySharesOut)
def my_shares(args):
    """My shares (我的股份): holding by kind, ratio and register lines, per cooperative."""
    members = me.members_of(db.session, _my_member_ids())
    return me.my_shares(db.session, members, args.get("as_of") or clock.today())


@blp.route("/me/payouts", methods=["GET"])
@access(MEMBER)
@blp.arguments(MyPayoutArgs, location="query")
@blp.response(200, page_schema(MyPayoutOut))
def my_payouts(args):
    """My payouts (我的分红与补助): my payout lines, newest year first."""
    return me.my_payouts(db.session, _my_member_ids(), args["page"], args["per_page"],
                         args.get("year"))


@blp.route("/me/account", methods=["GET"])
@access(MEMBER)
@blp.arguments(MyAccountArgs, location="query")
@blp.response(200, MyAccountOut)
def my_account(args):
    """My member account (成员账户, Art. 43) in each cooperative I belong to."""
    members = me.members_of(db.session, _my_member_ids())
    return me.my_accounts(db.session, members, args.get("year"), clock.today())


class TaskOut(Schema):
    kind = fields.String(metadata={"description": "application_to_decide | disbursement_to_make"
                                   " | round_to_approve | scores_to_enter | operation_to_approve"
                                   " | plan_ready_to_approve | batch_with_failed_lines"
                                   " | lines_held"})
    object_type = fields.String()
    object_id = fields.Integer()
    title = fields.String()
    since = fields.DateTime()


class TasksOut(Schema):
    items = fields.List(fields.Nested(TaskOut), required=True)
    total = fields.Integer(required=True)


@blp.route("/me/tasks", methods=["GET"])
@access(ANY_USER)
@blp.response(200, TasksOut)
def my_tasks():
    """What waits on me now (待办), computed from the data for every role I hold, the
    longest-waiting first: the console's home page and the mini-program's to-do list."""
    items = [task._asdict() for task in tasks.my_tasks(db.session)]
    return {"items": items, "total": len(items)}
