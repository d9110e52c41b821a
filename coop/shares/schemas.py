"""Request and response schemas of the share ledger (marshmallow; unknown fields → 422)."""
from __future__ import annotations

import re
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from coop.dbtypes import MAX_ID
from coop.fields import Choice, Integer
from coop.money import MAX_FEN
from coop.pagination import PageArgs
from coop.shares.ledger import KIND_LABELS
from coop.shares.models import KINDS, OPERATION_STATES, OPERATION_TYPES
from coop.shares.services import REQUEST_TYPES

ID = validate.Range(min=1, max=MAX_ID)
MAX_AREA_MU = Decimal("10000000")
MAX_TICKETS = 10**9
# The Chinese names a manager writes (the register's labels; 现金 is what people say).
KIND_WORDS = {label: kind for kind, label in KIND_LABELS.items()} | {"现金": "cash"}


class AreaMu(fields.String):
    """An area in mu as a decimal string with at most two places ("6.50"); never a float."""

    PATTERN = re.compile(r"[0-9]{1,8}(\.[0-9]{1,2})?\Z")  # ASCII: "６.５" is not an area

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not self.PATTERN.match(text):
            raise ValidationError('面积须为最多两位小数的十进制字符串，如 "6.50"')
        area = Decimal(text)
        if not 0 < area <= MAX_AREA_MU:
            raise ValidationError("面积须大于 0")
        return area

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else f"{Decimal(value):.2f}"


class ShareOperationIn(Schema):
    type = fields.String(required=True, validate=validate.OneOf(REQUEST_TYPES))
    member_id = Integer(required=True, validate=ID)
    to_member_id = Integer(validate=ID,
                           metadata={"description": "受让成员，仅 transfer 需要"})
    kind = Choice(KINDS, words=KIND_WORDS, required=True)
    amount_fen = Integer(validate=validate.Range(min=1, max=MAX_FEN))
    area_mu = AreaMu(metadata={
        "description": "土地面积（亩，最多两位小数），仅 kind=land。折股金额 = area_mu × "
                       "章程 land_rate_fen_per_mu，四舍五入（half-up）到分"})
    tickets = Integer(validate=validate.Range(min=1, max=MAX_TICKETS),
                      metadata={"description": "劳务票张数，仅 kind=labour。折股金额 = "
                                                      "tickets × 章程 labour_ticket_rate_fen"})
    effective_on = fields.Date(required=True)
    note = fields.String(validate=validate.Length(max=255))

    @validates_schema
    def one_value(self, data, **kwargs):
        given = [f for f in ("amount_fen", "area_mu", "tickets") if data.get(f) is not None]
        if len(given) != 1:
            raise ValidationError("amount_fen、area_mu、tickets 须且只须填写一项", "amount_fen")
        if data.get("area_mu") is not None and data["kind"] != "land":
            raise ValidationError("area_mu 仅用于 kind=land", "area_mu")
        if data.get("tickets") is not None and data["kind"] != "labour":
            raise ValidationError("tickets 仅用于 kind=labour", "tickets")
        if (data["type"] == "transfer") != (data.get("to_member_id") is not None):
            raise ValidationError("转让（transfer）须填写，其他类型不得填写", "to_member_id")


class ShareDecisionIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=255))


class ShareReverseIn(ShareDecisionIn):
    effective_on = fields.Date(metadata={"description": "冲正行的生效日期，默认原操作的生效日期"})


class ShareOperationListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(OPERATION_STATES))
    type = fields.String(validate=validate.OneOf(OPERATION_TYPES))
    member_id = Integer(validate=ID)


class ShareLineOut(Schema):
    line_no = Integer()
    member_id = Integer()
    operation_id = Integer()
    operation_type = fields.String()
    kind = fields.String()
    delta_fen = Integer(metadata={"description": "带符号的变动金额（分）"})
    effective_on = fields.Date()
    created_at = fields.DateTime()


class ShareOperationOut(Schema):
    id = Integer()
    cooperative_id = Integer()
    type = fields.String()
    status = fields.String()
    member_id = Integer()
    to_member_id = Integer(allow_none=True)
    kind = fields.String()
    amount_fen = Integer(metadata={"description": "折股金额（分）"})
    area_mu = AreaMu(allow_none=True)
    tickets = Integer(allow_none=True)
    effective_on = fields.Date()
    note = fields.String(allow_none=True)
    reverses_id = Integer(allow_none=True)
    distribution_id = Integer(allow_none=True)
    reject_reason = fields.String(allow_none=True)
    created_by = Integer(allow_none=True)
    created_at = fields.DateTime()
    decided_by = Integer(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class ShareOperationDetailOut(ShareOperationOut):
    lines = fields.List(fields.Nested(ShareLineOut),
                        metadata={"description": "审批后写入的登记行"})


class ShareRegisterArgs(Schema):
    as_of = fields.Date(metadata={"description": "默认今天"})


class ShareLineListArgs(PageArgs):
    member_id = Integer(validate=ID)


# {cash, land, collective_asset, fiscal_subsidy, labour}: fen held of each kind
SharesByKind = Schema.from_dict({kind: Integer(required=True) for kind in KINDS},
                                name="SharesByKind")


class ShareRegisterMemberOut(Schema):
    member_id = Integer()
    name = fields.String()
    by_kind = fields.Nested(SharesByKind)
    total_fen = Integer()
    ratio = fields.String(metadata={"description": "total_fen / 股金总额，四位小数，四舍五入"})


class ShareRegisterOut(Schema):
    as_of = fields.Date()
    total_fen = Integer()
    members = fields.List(fields.Nested(ShareRegisterMemberOut))


class MemberAccountArgs(Schema):
    year = Integer(validate=validate.Range(min=1990, max=2100),
                   metadata={"description": "不填则为全部年度，出资截至今天"})


class MemberAccountOut(Schema):
    member_id = Integer()
    cooperative_id = Integer()
    name = fields.String()
    status = fields.String()
    year = Integer(allow_none=True)
    as_of = fields.Date(metadata={"description": "出资额的截止日期"})
    contribution_fen = Integer(metadata={"description": "出资额合计（分）"})
    contribution_by_kind = fields.Nested(SharesByKind)
    reserve_share_fen = Integer(metadata={"description": "量化到成员的公积金份额"})
    transaction_volume_fen = Integer(metadata={"description": "与本社的交易额"})
    subsidy_share_fen = Integer(metadata={"description": "财政补助量化份额"})
    distributions_received_fen = Integer(metadata={"description": "已分得的盈余"})


class OpeningRegisterOut(Schema):
    cooperative_id = Integer()
    imported = Integer(metadata={"description": "rows, each an approved subscribe"})
    members = Integer()
    total_fen = Integer()
    first_line_no = Integer()
    last_line_no = Integer()
