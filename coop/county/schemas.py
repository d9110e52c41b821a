"""Marshmallow schemas of the county capability (in and out)."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from auth.models import DEPARTMENTS
from coop.validators import MAX_YEAR, MIN_YEAR
from coop.county.models import (APPLICATION_STATES, DEFAULT_MANAGER_ROLES, GRADES,
                                MANAGER_ROLE_CHOICES)
from coop.dbtypes import MAX_ID
from coop.fields import Fen, Id, Rate
from coop.money import MAX_FEN
from coop.pagination import PageArgs


def Year(**kw) -> fields.Integer:  # noqa: N802
    return fields.Integer(strict=True, validate=validate.Range(min=MIN_YEAR, max=MAX_YEAR),
                          **kw)


def Score(**kw) -> fields.Integer:  # noqa: N802
    """An evaluation score or threshold: whole points 0..100."""
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=100), **kw)


# --- collective income -----------------------------------------------------------------

class CollectiveIncomeIn(Schema):
    amount_fen = Fen(required=True)


class CollectiveIncomeItemOut(Schema):
    source = fields.String()
    source_id = fields.Integer()
    amount_fen = fields.Integer()
    created_at = fields.DateTime()


class CollectiveIncomeOut(Schema):
    village_id = fields.Integer()
    year = fields.Integer()
    amount_fen = fields.Integer(allow_none=True,
                                metadata={"description": "the entered figure; null if none"})
    total_fen = fields.Integer(metadata={"description": "= amount_fen, 0 if none (v1)"})
    cooperative_dividends_fen = fields.Integer(
        metadata={"description": "paid plans' dividends to the collective: beside, not added"})
    items = fields.List(fields.Nested(CollectiveIncomeItemOut))


class IncomeYearOut(Schema):
    year = fields.Integer()
    amount_fen = fields.Integer(allow_none=True)
    cooperative_dividends_fen = fields.Integer()


# --- evaluations -----------------------------------------------------------------------

class EvaluationScoreIn(Schema):
    score = Score(required=True)
    opinion = fields.String(load_default="", validate=validate.Length(max=2000))


class EvaluationScoreOut(Schema):
    department = fields.String(validate=validate.OneOf(DEPARTMENTS))
    score = fields.Integer()
    opinion = fields.String()
    reviewer_id = fields.Integer()
    updated_at = fields.DateTime()


class EvaluationOut(Schema):
    cooperative_id = fields.Integer()
    year = fields.Integer()
    scores = fields.List(fields.Nested(EvaluationScoreOut))
    missing_departments = fields.List(fields.String())
    average_score = fields.Decimal(as_string=True, allow_none=True)
    rules_set = fields.Boolean()
    grade = fields.String(validate=validate.OneOf(GRADES))


# --- reward rules and rounds -----------------------------------------------------------

class RewardRulesIn(Schema):
    excellent_award_fen = Fen(required=True)
    secretary_rate = Rate(required=True)
    managers_rate = Rate(required=True)
    excellent_min_score = Score(required=True)
    good_min_score = Score(load_default=75)
    pass_min_score = Score(load_default=60)
    program_id = Id(required=True)
    award_once = fields.Boolean(load_default=True)
    manager_roles = fields.List(
        fields.String(validate=validate.OneOf(MANAGER_ROLE_CHOICES)),
        load_default=lambda: list(DEFAULT_MANAGER_ROLES),
        validate=lambda roles: _distinct(roles))


def _distinct(roles: list) -> None:
    if len(set(roles)) != len(roles):
        raise ValidationError("角色重复")


class RewardRulesOut(Schema):
    county_id = fields.Integer()
    year = fields.Integer()
    excellent_award_fen = fields.Integer()
    secretary_rate = Rate()
    managers_rate = Rate()
    excellent_min_score = fields.Integer()
    good_min_score = fields.Integer()
    pass_min_score = fields.Integer()
    program_id = fields.Integer()
    award_once = fields.Boolean()
    manager_roles = fields.Function(lambda rule: [r for r in rule.manager_roles.split(",") if r])
    updated_at = fields.DateTime()


class RewardRoundIn(Schema):
    year = Year(required=True)


class CountyReasonIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=255))


class RewardRoundListArgs(PageArgs):
    # Query strings are text: no strict=True here.
    year = fields.Integer(validate=validate.Range(min=MIN_YEAR, max=MAX_YEAR))


def _increase(line):
    if line.income_fen is None or line.income_prev_fen is None:
        return None
    return line.income_fen - line.income_prev_fen


class RewardLineOut(Schema):
    id = fields.Integer()
    round_id = fields.Integer()
    cooperative_id = fields.Integer()
    village_id = fields.Integer()
    kind = fields.String()
    payee_key = fields.String()
    payee_type = fields.String()
    payee_name = fields.String()
    reason = fields.String(allow_none=True, metadata={"description": "why the payee qualifies"})
    bank_name = fields.String(allow_none=True)
    bank_account_masked = fields.String(allow_none=True)
    amount_fen = fields.Integer()
    income_prev_fen = fields.Integer(allow_none=True)
    prior_income_fen = fields.Function(lambda line: line.income_prev_fen, allow_none=True)
    income_fen = fields.Integer(allow_none=True)
    increase_fen = fields.Function(_increase, allow_none=True)
    rate = Rate(allow_none=True)


class RewardRoundOut(Schema):
    id = fields.Integer()
    county_id = fields.Integer()
    year = fields.Integer()
    status = fields.String()
    program_id = fields.Integer()
    excellent_award_fen = fields.Integer()
    secretary_rate = Rate()
    managers_rate = Rate()
    total_fen = fields.Integer()
    line_count = fields.Integer()
    created_by = fields.Integer()
    decided_by = fields.Integer(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    reason = fields.String(allow_none=True)
    payout_batch_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class RewardRoundDetailOut(RewardRoundOut):
    lines = fields.List(fields.Nested(RewardLineOut))


# --- programs and subsidy applications -------------------------------------------------

class ProgramIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    year = Year(required=True)
    end_year = Year(allow_none=True, metadata={"description": "last year (default: year)"})
    budget_fen = Fen(required=True)
    per_recipient_cap_fen = fields.Integer(strict=True, allow_none=True,
                                           validate=validate.Range(min=1, max=MAX_FEN))


class ProgramListArgs(PageArgs):
    open = fields.Boolean(metadata={"description": "only programs accepting applications"})


class RewardsArgs(PageArgs):
    year = fields.Integer(validate=validate.Range(min=MIN_YEAR, max=MAX_YEAR))


class SubsidyApproveIn(Schema):
    amount_fen = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_FEN),
                                metadata={"description": "grant less than applied for"})


class ProgramOut(Schema):
    id = fields.Integer()
    county_id = fields.Integer()
    name = fields.String()
    year = fields.Integer()
    end_year = fields.Integer(attribute="last_year")
    budget_fen = fields.Integer()
    per_recipient_cap_fen = fields.Integer(allow_none=True)
    committed_fen = fields.Integer()
    disbursed_fen = fields.Integer()
    available_fen = fields.Integer()
    created_at = fields.DateTime()


class SubsidyApplicationIn(Schema):
    program_id = Id(required=True)
    amount_fen = fields.Integer(strict=True, required=True,
                                validate=validate.Range(min=1, max=MAX_FEN))
    purpose = fields.String(required=True, validate=validate.Length(min=1, max=500))


class SubsidyApplicationListArgs(PageArgs):
    county_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    status = fields.String(validate=validate.OneOf(APPLICATION_STATES))


class SubsidyDisburseIn(Schema):
    paid_on = fields.Date(required=True)
    bank_ref = fields.String(required=True, validate=validate.Length(min=1, max=64))


class SubsidyApplicationOut(Schema):
    id = fields.Integer()
    county_id = fields.Integer()
    cooperative_id = fields.Integer()
    program_id = fields.Integer()
    amount_fen = fields.Integer()
    approved_amount_fen = fields.Integer(allow_none=True)
    purpose = fields.String()
    status = fields.String()
    created_by = fields.Integer()
    approved_by = fields.Integer(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    rejected_by = fields.Integer(allow_none=True)
    reject_reason = fields.String(allow_none=True)
    disbursed_by = fields.Integer(allow_none=True)
    paid_on = fields.Date(allow_none=True)
    bank_ref = fields.String(allow_none=True)
    payout_batch_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
