"""Marshmallow schemas of the distribution capability (in and out)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from coop.validators import MAX_YEAR, MIN_YEAR
from coop.dbtypes import MAX_ID
from coop.fields import Integer, Rate
from coop.money import MAX_FEN
from coop.pagination import PageArgs

FEN = validate.Range(min=0, max=MAX_FEN)
SIGNED_FEN = validate.Range(min=-MAX_FEN, max=MAX_FEN)
ID = validate.Range(min=1, max=MAX_ID)
VOTES = validate.Range(min=0, max=10_000_000)


class AnnualAccountIn(Schema):
    revenue_fen = Integer(required=True, validate=FEN)
    cost_fen = Integer(required=True, validate=FEN)
    prior_loss_fen = Integer(load_default=0, validate=FEN)
    wages_paid_fen = Integer(load_default=0, validate=FEN)
    labour_days = Integer(load_default=0, validate=validate.Range(min=0, max=10**9))
    fiscal_subsidy_fen = Integer(load_default=0, validate=FEN)


class AnnualAccountOut(Schema):
    id = Integer()
    cooperative_id = Integer()
    year = Integer()
    revenue_fen = Integer()
    cost_fen = Integer()
    prior_loss_fen = Integer()
    wages_paid_fen = Integer()
    labour_days = Integer()
    fiscal_subsidy_fen = Integer()
    locked = fields.Boolean()
    updated_at = fields.DateTime()


class TradeIn(Schema):
    member_id = Integer(required=True, validate=ID)
    amount_fen = Integer(required=True, validate=SIGNED_FEN)
    occurred_on = fields.Date(required=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))


class TradeOut(Schema):
    id = Integer()
    member_id = Integer()
    member_name = fields.String()
    amount_fen = Integer()
    occurred_on = fields.Date()
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()


class TradeImportOut(Schema):
    year = Integer()
    count = Integer()
    amount_fen = Integer()


class TradeListArgs(PageArgs):
    member_id = Integer(validate=ID)


class DistributionPlanIn(Schema):
    year = Integer(required=True, validate=validate.Range(min=MIN_YEAR, max=MAX_YEAR))
    reserve_rate = Rate(required=True)
    patronage_rate = Rate(load_default=None, allow_none=True)


class ConversionIn(Schema):
    member_id = Integer(required=True, validate=ID)
    amount_fen = Integer(required=True, validate=validate.Range(min=1, max=MAX_FEN))


class AssemblyIn(Schema):
    held_on = fields.Date(required=True)
    basic_votes_total = Integer(required=True, validate=validate.Range(min=1, max=10**7))
    extra_votes_total = Integer(required=True, validate=VOTES)
    votes_for = Integer(required=True, validate=VOTES)
    votes_against = Integer(required=True, validate=VOTES)
    abstentions = Integer(required=True, validate=VOTES)
    # Art. 44: the part of members' distributions the assembly converts into capital.
    conversions = fields.List(fields.Nested(ConversionIn), load_default=list,
                              validate=validate.Length(max=10_000))


class PublishIn(Schema):
    notice_days = Integer(required=True, validate=validate.Range(min=0, max=365))


class AssemblyTallyOut(Schema):
    held_on = fields.Date(attribute="assembly_held_on")
    basic_votes_total = Integer()
    extra_votes_total = Integer()
    votes_for = Integer()
    votes_against = Integer()
    abstentions = Integer()


class DistributionPlanOut(Schema):
    id = Integer()
    cooperative_id = Integer()
    year = Integer()
    method = fields.String()
    status = fields.String()
    reserve_rate = Rate()
    patronage_rate = Rate(allow_none=True)
    revenue_fen = Integer()
    cost_fen = Integer()
    prior_loss_fen = Integer()
    surplus_fen = Integer()
    loss_covered_fen = Integer()
    reserve_fen = Integer()
    distributable_fen = Integer()
    patronage_pool_fen = Integer()
    share_pool_fen = Integer()
    fiscal_subsidy_fen = Integer()
    trade_total_fen = Integer()
    share_basis_total_fen = Integer()
    converted_fen = Integer()
    line_count = Integer()
    assembly = fields.Method("_assembly")
    notice_days = Integer(allow_none=True)
    notice_starts_at = fields.DateTime(allow_none=True)
    notice_ends_at = fields.DateTime(allow_none=True)
    public_url = fields.String(allow_none=True)
    payout_batch_id = Integer(allow_none=True)
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)

    def _assembly(self, plan):
        if plan.assembly_held_on is None:
            return None
        return AssemblyTallyOut().dump(plan)


class DistributionLineOut(Schema):
    id = Integer()
    member_id = Integer()
    name = fields.String()
    is_collective = fields.Boolean()
    capital_fen = Integer()
    trade_fen = Integer()
    share_basis_fen = Integer()
    reserve_share_fen = Integer()
    subsidy_share_fen = Integer()
    patronage_fen = Integer()
    share_fen = Integer()
    total_fen = Integer()
    convert_fen = Integer()
    payout_fen = Integer()
