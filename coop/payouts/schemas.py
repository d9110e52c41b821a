"""Marshmallow schemas of the payouts capability."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from coop.dbtypes import MAX_ID
from coop.fields import BankAccount, Integer
from coop.pagination import PageArgs

MAX_RESULTS = 10_000


class PayoutBatchOut(Schema):
    id = Integer()
    source = fields.String()
    source_id = Integer()
    sequence = Integer()
    year = Integer()
    county_id = Integer()
    cooperative_id = Integer(allow_none=True)
    status = fields.String()
    line_count = Integer()
    total_fen = Integer()
    issued_fen = Integer(metadata={"description": "put to pay; a re-issued line once"})
    paid_fen = Integer(metadata={"description": "实发: paid less reversals"})
    failed_fen = Integer(metadata={"description": "failed, not re-issued"})
    pending_fen = Integer()
    held_fen = Integer(metadata={"description": "no bank account: not in the bank file"})
    reversed_fen = Integer()
    created_at = fields.DateTime()


class PayoutLineOut(Schema):
    id = Integer()
    batch_id = Integer()
    member_id = Integer(allow_none=True)
    payee_type = fields.String()
    payee_name = fields.String()
    bank_name = fields.String(allow_none=True)
    bank_account_masked = fields.String(allow_none=True)
    amount_fen = Integer()
    is_collective = fields.Boolean()
    status = fields.String()
    bank_ref = fields.String(allow_none=True)
    paid_on = fields.Date(allow_none=True)
    reverses_id = Integer(allow_none=True)
    reissue_of_id = Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime(allow_none=True)


class PayoutLineListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(("held", "pending", "paid", "failed",
                                                    "reversed")))


class PayoutResultIn(Schema):
    line_id = Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))
    status = fields.String(required=True, validate=validate.OneOf(("paid", "failed")))
    bank_ref = fields.String(load_default=None, allow_none=True,
                             validate=validate.Length(max=64))
    paid_on = fields.Date(load_default=None, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))


class PayoutReverseIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=255))


class PayoutLineAccountIn(Schema):
    bank_name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    bank_account = BankAccount(required=True, max_length=40)
