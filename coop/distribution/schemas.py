"""Marshmallow schemas of the distribution capability (in and out)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from coop.validators import MAX_YEAR, MIN_YEAR
from coop.dbtypes import MAX_ID
from coop.fields import Rate
from coop.money import MAX_FEN
from coop.pagination import PageArgs

FEN = validate.Range(min=0, max=MAX_FEN)
SIGNED_FEN = validate.Range(min=-MAX_FEN, max=MAX_FEN)
ID = validate.Range(min=1, max=MAX_ID)
VOTES = validate.Range(min=0, max=10_000_000)


class AnnualAccountIn(Schema):
    revenue_fen = fields.Integer(required=True, validate=FEN)
    cost_fen = fields.Integer(required=True, validate=FEN)
    prior_loss_fen = fields.Integer(load_default=0, validate=FEN)
    wages_paid_fen = fields.Integer(load_default=0, validate=FEN)
    labour_days = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10**9))
    fiscal_subsidy_fen = fields.Integer(load_default=0, validate=FEN)


class AnnualAccountOut(Schema):
    id = fields.Integer()
    cooperative_id = fields.Integer()
    year = fields.Integer()
    revenue_fen = fields.Integer()
    cost_fen = fields.Integer()
    prior_loss_fen = fields.Integer()
    wages_paid_fen = fields.Integer()
    labour_days = fields.Integer()
    fiscal_subsidy_fen = fields.Integer()
    locked = fields.Boolean()
    updated_at = fields.DateTime()


class TradeIn(Schema):
    member_id = fields.Integer(required=True, validate=ID)
    amount_fen = fields.Integer(required=True, validate=SIGNED_FEN)
    occurred_on = fields.Date(required=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))


class TradeOut(Schema):
    id = fields.Integer()
    member_id = fields.Integer()
    member_name = fields.String()
    amount_fen = fields.Integer()
    occurred_on = fields.Date()
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()


class TradeImportOut(Schema):
    year = fields.Integer()
    count = fields.Integer()
    amount_fen = fields.Integer()


class TradeListArgs(PageArgs):
    member_id = fields.Integer(validate=ID)


class DistributionPlanIn(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=MIN_YEAR, max=MAX_YEAR))
    reserve_rate = Rate(required=True)
    patronage_rate = Rate(load_default=None, allow_none=True)


class ConversionIn(Schema):
    member_id = fields.Integer(required=True, validate=ID)
    amount_fen = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_FEN))


class AssemblyIn(Schema):
    held_on = fields.Date(required=True)
    basic_votes_total = fields.Integer(required=True, validate=validate.Range(min=1, max=10**7))
    extra_votes_total = fields.Integer(required=True, validate=VOTES)
    votes_for = fields.Integer(required=True, validate=VOTES)
    votes_against = fields.Integer(required=True, validate=VOTES)
    abstentions = fields.Integer(required=True, validate=VOTES)
    # Art. 44: the part of members' distributions the assembly converts into capital.
    conversions = fields.List(fields.Nested(ConversionIn), load_default=list,
                              validate=validate.Length(max=10_000))


class PublishIn(Schema):
    notice_days = fields.Integer(required=True, validate=validate.Range(min=0, max=365))


class AssemblyTallyOut(Schema):
    held_on = fields.Date(attribute="assembly_held_on")
    basic_votes_total = fields.Integer()
    extra_votes_total = fields.Integer()
    votes_for = fields.Integer()
    votes_against = fields.Integer()
    abstentions = fields.Integer()


class DistributionPlanOut(Schema):
    id = fields.Integer()
    cooperative_id = fields.Integer()
    year = fields.Integer()
    method = fields.String()
    status = fields.String()
    reserve_rate = Rate()
    patronage_rate = Rate(allow_none=True)
    revenue_fen = fields.Integer()
    cost_fen = fields.Integer()
    prior_loss_fen = fields.Integer()
    surplus_fen = fields.Integer()
    loss_covered_fen = fields.Integer()
    reserve_fen = fields.Integer()
    distributable_fen = fields.Integer()
    patronage_pool_fen = fields.Integer()
    share_pool_fen = fields.Integer()
    fiscal_subsidy_fen = fields.Integer()
    trade_total_fen = fields.Integer()
    share_basis_total_fen = fields.Integer()
    converted_fen = fields.Integer()
    line_count = fields.Integer()
    assembly = fields.Method("_assembly")
    notice_days = fields.Integer(allow_none=True)
    notice_starts_at = fields.DateTime(allow_none=True)
    notice_ends_at = fields.DateTime(allow_none=True)
    public_url = fields.String(allow_none=True)
    payout_batch_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)

    def _assembly(self, plan):
        if plan.assembly_held_on is None:
            return None
        return AssemblyTallyOut().dump(plan)


class DistributionLineOut(Schema):
    id = fields.Integer()
    member_id = fields.Integer()
    name = fields.String()
    is_collective = fields.Boolean()
    capital_fen = fields.Integer()
    trade_fen = fields.Integer()
    share_basis_fen = fields.Integer()
    reserve_share_fen = fields.Integer()
    subsidy_share_fen = fields.Integer()
    patronage_fen = fields.Integer()
    share_fen = fields.Integer()
    total_fen = fields.Integer()
    convert_fen = fields.Integer()
    payout_fen = fields.Integer()
