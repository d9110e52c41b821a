"""Query arguments and response shapes of the reports and self-service routes."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from coop.dbtypes import MAX_ID
from coop.fields import Integer
from coop.pagination import PageArgs
from coop.payouts.models import LINE_STATES, SOURCES
from coop.reports.payouts_report import SCOPES
from coop.shares.schemas import MemberAccountOut, ShareLineOut

FORMATS = ("json", "csv", "xlsx", "pdf")
YEAR = validate.Range(min=1990, max=2100)
ID = validate.Range(min=1, max=MAX_ID)


class PayoutReportArgs(PageArgs):
    scope = fields.String(required=True, validate=validate.OneOf(SCOPES))
    id = Integer(required=True, validate=ID,
                 metadata={"description": "市、县、乡镇或合作社的 id（由 scope 决定）"})
    year = Integer(required=True, validate=YEAR)
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS),
                           metadata={"description": "json 分页列出明细；csv/xlsx/pdf 为完整文件"})


class ReportCountOut(Schema):
    line_count = Integer()
    total_fen = Integer()


class CooperativeSubtotalOut(ReportCountOut):
    cooperative_id = Integer(allow_none=True)
    cooperative_name = fields.String(allow_none=True)
    town_id = Integer(allow_none=True)


class TownSubtotalOut(ReportCountOut):
    town_id = Integer(allow_none=True)
    town_name = fields.String(allow_none=True)


class ReportTotalsOut(ReportCountOut):
    issued_fen = Integer(metadata={"description": "应发：冲正行以外、未被补发取代的行"})
    paid_fen = Integer(metadata={"description": "实发：已支付减冲正"})
    failed_fen = Integer(metadata={"description": "失败且未补发"})
    pending_fen = Integer()
    held_fen = Integer(metadata={"description": "暂缓：无银行账号"})
    reversed_fen = Integer(metadata={"description": "冲正（正数）"})
    by_source = fields.Dict(keys=fields.String(validate=validate.OneOf(SOURCES)),
                            values=fields.Nested(ReportCountOut))
    by_status = fields.Dict(keys=fields.String(validate=validate.OneOf(LINE_STATES)),
                            values=fields.Nested(ReportCountOut))


class PayoutReportLineOut(Schema):
    id = Integer()
    batch_id = Integer()
    town_id = Integer(allow_none=True)
    town_name = fields.String(allow_none=True)
    cooperative_id = Integer(allow_none=True)
    cooperative_name = fields.String(allow_none=True)
    source = fields.String()
    payee_type = fields.String()
    payee_name = fields.String()
    bank_name = fields.String(allow_none=True)
    bank_account_masked = fields.String(allow_none=True)
    amount_fen = Integer()
    status = fields.String()
    bank_ref = fields.String(allow_none=True)
    paid_on = fields.Date(allow_none=True)
    reverses_id = Integer(allow_none=True)


class PayoutReportOut(Schema):
    scope = fields.String()
    scope_id = Integer()
    name = fields.String()
    county_id = Integer(allow_none=True, metadata={"description": "null for a city"})
    year = Integer()
    totals = fields.Nested(ReportTotalsOut)
    cooperatives = fields.List(fields.Nested(CooperativeSubtotalOut))
    towns = fields.List(fields.Nested(TownSubtotalOut))
    items = fields.List(fields.Nested(PayoutReportLineOut))
    page = Integer()
    per_page = Integer()
    total = Integer(metadata={"description": "明细总笔数"})


class DashboardArgs(Schema):
    county_id = Integer(validate=ID, metadata={"description": "县（与 city_id 二选一）"})
    city_id = Integer(validate=ID, metadata={"description": "地级市：各县数字与合计"})
    year = Integer(required=True, validate=YEAR)
    baseline_year = Integer(validate=YEAR, metadata={
        "description": "收入达标村数的对比年度，默认上一年"})

    @validates_schema
    def _one_scope(self, data, **kwargs):
        if ("county_id" in data) == ("city_id" in data):
            raise ValidationError("county_id 与 city_id 须且只能给出一个", "county_id")


class CooperativeCountsOut(Schema):
    by_status = fields.Dict(keys=fields.String(), values=Integer())
    total = Integer()
    standardized = Integer(metadata={"description": "当前规范提升社数"})
    standardized_during_year = Integer(metadata={"description": "本年度转为规范提升的社数"})


class IncomeThresholdOut(Schema):
    threshold_fen = Integer()
    this_year = Integer(metadata={"description": "本年集体收入达到该额的村数"})
    last_year = Integer()


class DashboardWagesOut(Schema):
    wages_paid_fen = Integer(metadata={"description": "支付农民工资（分）"})
    labour_days = Integer(metadata={"description": "用工（工日）"})
    cooperatives_reporting = Integer()


class PayoutSourceOut(Schema):
    line_count = Integer()
    issued_fen = Integer(metadata={"description": "发放额（不含冲正），等于批次合计"})
    paid_fen = Integer(metadata={"description": "已支付净额（已支付减冲正）"})
    pending_fen = Integer()
    failed_fen = Integer()


class CrossAppointmentOut(Schema):
    as_of = fields.Date()
    village_committee_officers = Integer()
    board_and_supervisory_officers = Integer()
    ratio = fields.String(allow_none=True, metadata={"description": "四位小数，四舍五入"})


class ZoneIncomeItemOut(Schema):
    zone_id = Integer()
    name = fields.String()
    villages = Integer()
    income_fen = Integer()
    average_fen = Integer()
    ratio_to_county = fields.String(allow_none=True)


class ZoneIncomeOut(Schema):
    year = Integer()
    county_villages = Integer()
    county_income_fen = Integer()
    county_average_fen = Integer()
    zones = fields.List(fields.Nested(ZoneIncomeItemOut))


class ThresholdCountOut(Schema):
    threshold_fen = Integer()
    this_year = Integer(metadata={"description": "本年集体收入达到该额的村数"})
    baseline_year = Integer(metadata={"description": "对比年度达到该额的村数"})


class ShellsClearedOut(Schema):
    closed = Integer()
    merged = Integer()
    transformed = Integer()
    total = Integer()


class FiguresOut(Schema):
    """The figures the county reports publish; each is defined in docs/figures.md."""
    year = Integer()
    baseline_year = Integer()
    as_of = fields.Date(metadata={"description": "统计日：年末，或年度未完时的今天"})
    cooperatives_by_status = fields.Dict(keys=fields.String(), values=Integer())
    cooperatives_total = Integer()
    shells_cleared = fields.Nested(ShellsClearedOut, metadata={"description": "本年关停并转"})
    standardized = Integer(metadata={"description": "本年规范提升"})
    secretary_chair_ratio = fields.String(allow_none=True, metadata={
        "description": "村党组织书记任理事长比例（四位小数）"})
    secretary_chairs = Integer()
    chaired_cooperatives = Integer()
    cross_appointment_ratio = fields.String(allow_none=True)
    cross_appointed_officers = Integer()
    board_and_supervisory_officers = Integer()
    professional_managers = Integer()
    commissioners = Integer()
    cooperatives_with_commissioner = Integer()
    collective_income_fen = Integer()
    villages_with_income = Integer()
    collective_income_per_village_fen = Integer(allow_none=True)
    collective_income_increase_fen = Integer()
    villages_compared = Integer()
    collective_income_increase_per_village_fen = Integer(allow_none=True)
    villages_income_at_least = fields.List(fields.Nested(ThresholdCountOut))
    wages_paid_fen = Integer()
    labour_person_times = Integer()
    cooperatives_reporting_accounts = Integer()
    dividends_paid_fen = Integer()


class CityCountyFiguresOut(FiguresOut):
    county_id = Integer()
    name = fields.String()
    code = fields.String()


class DashboardOut(Schema):
    """A county's dashboard (county_id=) or a city's (city_id=: counties and total)."""
    county_id = Integer()
    city_id = Integer()
    name = fields.String()
    baseline_year = Integer()
    as_of = fields.Date()
    counties = fields.List(fields.Nested(CityCountyFiguresOut))
    total = fields.Nested(FiguresOut)
    figures = fields.Nested(FiguresOut)
    year = Integer()
    cooperatives = fields.Nested(CooperativeCountsOut)
    villages_by_collective_income = fields.List(fields.Nested(IncomeThresholdOut))
    wages = fields.Nested(DashboardWagesOut)
    payouts_by_source = fields.Dict(keys=fields.String(), values=fields.Nested(PayoutSourceOut))
    cross_appointment = fields.Nested(CrossAppointmentOut)
    zone_income = fields.Nested(ZoneIncomeOut)


class MySharesArgs(Schema):
    as_of = fields.Date(metadata={"description": "默认今天"})


class MyHoldingOut(Schema):
    member_id = Integer()
    cooperative_id = Integer()
    cooperative_name = fields.String()
    name = fields.String()
    status = fields.String()
    by_kind = fields.Dict(keys=fields.String(), values=Integer())
    total_fen = Integer()
    ratio = fields.String(metadata={"description": "占本社股金总额，四位小数"})
    lines = fields.List(fields.Nested(ShareLineOut))


class MySharesOut(Schema):
    as_of = fields.Date()
    items = fields.List(fields.Nested(MyHoldingOut))


class MyPayoutArgs(PageArgs):
    year = Integer(validate=YEAR)


class MyPayoutOut(Schema):
    id = Integer()
    batch_id = Integer()
    member_id = Integer()
    cooperative_id = Integer(allow_none=True)
    cooperative_name = fields.String(allow_none=True)
    source = fields.String()
    year = Integer()
    amount_fen = Integer()
    status = fields.String()
    bank_name = fields.String(allow_none=True)
    bank_account_masked = fields.String(allow_none=True)
    bank_ref = fields.String(allow_none=True)
    paid_on = fields.Date(allow_none=True)
    reverses_id = Integer(allow_none=True)


class MyAccountArgs(Schema):
    year = Integer(validate=YEAR, metadata={"description": "不填则为全部年度"})


class MyAccountItemOut(MemberAccountOut):
    cooperative_name = fields.String()


class MyAccountOut(Schema):
    year = Integer(allow_none=True)
    items = fields.List(fields.Nested(MyAccountItemOut))
