"""Marshmallow schemas of the county capability (in and out)."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from auth.models import DEPARTMENTS
from coop.validators import MAX_YEAR, MIN_YEAR
from coop.county.models import (APPLICATION_STATES, DEFAULT_MANAGER_ROLES, GRADES,
                                MANAGER_ROLE_CHOICES)
from coop.dbtypes import MAX_ID
from coop.fields import Boolean, Fen, Id, Integer, Rate
from coop.money import MAX_FEN
from coop.pagination import PageArgs


def Year(**kw) -> fields.Integer:  # noqa: N802
    return Integer(validate=validate.Range(min=MIN_YEAR, max=MAX_YEAR),
                   **kw)


def Score(**kw) -> fields.Integer:  # noqa: N802
    """An evaluation score or threshold: whole points 0..100."""
    return Integer(validate=validate.Range(min=0, max=100), **kw)


# --- collective income -----------------------------------------------------------------

class CollectiveIncomeIn(Schema):
    amount_fen = Fen(required=True)


class CollectiveIncomeItemOut(Schema):
    source = fields.String()
    source_id = Integer()
    amount_fen = Integer()
    created_at = fields.DateTime()


class CollectiveIncomeOut(Schema):
    village_id = Integer()
    year = Integer()
    amount_fen = Integer(allow_none=True,
                         metadata={"description": "the entered figure; null if none"})
    total_fen = Integer(metadata={"description": "= amount_fen, 0 if none (v1)"})
    cooperative_dividends_fen = Integer(
        metadata={"description": "paid plans' dividends to the collective: beside, not added"})
    items = fields.List(fields.Nested(CollectiveIncomeItemOut))


class IncomeYearOut(Schema):
    year = Integer()
    amount_fen = Integer(allow_none=True)
    cooperative_dividends_fen = Integer()


# --- evaluations -----------------------------------------------------------------------

class EvaluationScoreIn(Schema):
    score = Score(required=True)
    opinion = fields.String(load_default="", validate=validate.Length(max=2000))


class EvaluationScoreOut(Schema):
    department = fields.String(validate=validate.OneOf(DEPARTMENTS))
    score = Integer()
    opinion = fields.String()
    reviewer_id = Integer()
    updated_at = fields.DateTime()


class EvaluationOut(Schema):
    cooperative_id = Integer()
    year = Integer()
    scores = fields.List(fields.Nested(EvaluationScoreOut))
    missing_departments = fields.List(fields.String())
    average_score = fields.Decimal(as_string=True, allow_none=True)
    rules_set = Boolean()
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
    award_once = Boolean(load_default=True)
    manager_roles = fields.List(
        fields.String(validate=validate.OneOf(MANAGER_ROLE_CHOICES)),
        load_default=lambda: list(DEFAULT_MANAGER_ROLES),
        validate=lambda roles: _distinct(roles))


def _distinct(roles: list) -> None:
    if len(set(roles)) != len(roles):
        raise ValidationError("角色重复")


class RewardRulesOut(Schema):
    county_id = Integer()
    year = Integer()
    excellent_award_fen = Integer()
    secretary_rate = Rate()
    managers_rate = Rate()
    excellent_min_score = Integer()
    good_min_score = Integer()
    pass_min_score = Integer()
    program_id = Integer()
    award_once = Boolean()
    manager_roles = fields.Function(lambda rule: [r for r in rule.manager_roles.split(",") if r])
    updated_at = fields.DateTime()


class RewardRoundIn(Schema):
    year = Year(required=True)


class CountyReasonIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=255))


class RewardRoundListArgs(PageArgs):
    # Query strings are text: no strict=True here.
    year = Integer(validate=validate.Range(min=MIN_YEAR, max=MAX_YEAR))


def _increase(line):
    if line.income_fen is None or line.income_prev_fen is None:
        return None
    return line.income_fen - line.income_prev_fen


class RewardLineOut(Schema):
    id = Integer()
    round_id = Integer()
    cooperative_id = Integer()
    village_id = Integer()
    kind = fields.String()
    payee_key = fields.String()
    payee_type = fields.String()
    payee_name = fields.String()
    reason = fields.String(allow_none=True, metadata={"description": "why the payee qualifies"})
    bank_name = fields.String(allow_none=True)
    bank_account_masked = fields.String(allow_none=True)
    amount_fen = Integer()
    income_prev_fen = Integer(allow_none=True)
    prior_income_fen = fields.Function(lambda line: line.income_prev_fen, allow_none=True)
    income_fen = Integer(allow_none=True)
    increase_fen = fields.Function(_increase, allow_none=True)
    rate = Rate(allow_none=True)


class RewardRoundOut(Schema):
    id = Integer()
    county_id = Integer()
    year = Integer()
    status = fields.String()
    program_id = Integer()
    excellent_award_fen = Integer()
    secretary_rate = Rate()
    managers_rate = Rate()
    total_fen = Integer()
    line_count = Integer()
    created_by = Integer()
    decided_by = Integer(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    reason = fields.String(allow_none=True)
    payout_batch_id = Integer(allow_none=True)
    created_at = fields.DateTime()


class RewardRoundDetailOut(RewardRoundOut):
    lines = fields.List(fields.Nested(RewardLineOut))


# --- programs and subsidy applications -------------------------------------------------

class ProgramIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    year = Year(required=True)
    end_year = Year(allow_none=True, metadata={"description": "last year (default: year)"})
    budget_fen = Fen(required=True)
    per_recipient_cap_fen = Integer(allow_none=True,
                                    validate=validate.Range(min=1, max=MAX_FEN))


class ProgramListArgs(PageArgs):
    open = Boolean(metadata={"description": "only programs accepting applications"})


class RewardsArgs(PageArgs):
    year = Integer(validate=validate.Range(min=MIN_YEAR, max=MAX_YEAR))


class SubsidyApproveIn(Schema):
    amount_fen = Integer(validate=validate.Range(min=1, max=MAX_FEN),
                         metadata={"description": "grant less than applied for"})


class ProgramOut(Schema):
    id = Integer()
    county_id = Integer()
    name = fields.String()
    year = Integer()
    end_year = Integer(attribute="last_year")
    budget_fen = Integer()
    per_recipient_cap_fen = Integer(allow_none=True)
    committed_fen = Integer()
    disbursed_fen = Integer()
    available_fen = Integer()
    created_at = fields.DateTime()


class SubsidyApplicationIn(Schema):
    program_id = Id(required=True)
    amount_fen = Integer(required=True,
                         validate=validate.Range(min=1, max=MAX_FEN))
    purpose = fields.String(required=True, validate=validate.Length(min=1, max=500))


class SubsidyApplicationListArgs(PageArgs):
    county_id = Integer(validate=validate.Range(min=1, max=MAX_ID))
    status = fields.String(validate=validate.OneOf(APPLICATION_STATES))


class SubsidyDisburseIn(Schema):
    paid_on = fields.Date(required=True)
    bank_ref = fields.String(required=True, validate=validate.Length(min=1, max=64))


class SubsidyApplicationOut(Schema):
    id = Integer()
    county_id = Integer()
    cooperative_id = Integer()
    program_id = Integer()
    amount_fen = Integer()
    approved_amount_fen = Integer(allow_none=True)
    purpose = fields.String()
    status = fields.String()
    created_by = Integer()
    approved_by = Integer(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    rejected_by = Integer(allow_none=True)
    reject_reason = fields.String(allow_none=True)
    disbursed_by = Integer(allow_none=True)
    paid_on = fields.Date(allow_none=True)
    bank_ref = fields.String(allow_none=True)
    payout_batch_id = Integer(allow_none=True)
    created_at = fields.DateTime()
