"""Marshmallow schemas of the registry (in and out). Unknown fields are refused (422)."""
from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from coop.dbtypes import MAX_ID
from coop.fields import (BankAccount, Boolean, Choice, Fen, Id, Identifier, Integer, PastDate,
                         Phone, Rate)
from coop.pagination import PageArgs
from coop.registry.importer import MEMBER_TYPE_WORDS
from coop.registry.models import (COOP_STATUSES, DISTRIBUTION_METHODS, MEMBER_TYPES,
                                  OFFICER_ROLES)

MEMBER_STATUSES = ("active", "left", "former")


def Text(max_len: int, **kw) -> fields.String:  # noqa: N802
    return fields.String(validate=validate.Length(min=1, max=max_len), **kw)


# --- cooperatives ------------------------------------------------------------------------

class CharterFields(Schema):
    """Charter (章程) settings the cooperative's own manager may also change."""

    distribution_method = fields.String(validate=validate.OneOf(DISTRIBUTION_METHODS))
    land_rate_fen_per_mu = Fen()
    labour_ticket_rate_fen = Fen()
    single_member_cap_rate = Rate()
    collective_cap_applies = Boolean()
    industry = fields.String(validate=validate.Length(max=64))

    @validates_schema
    def _cap_above_zero(self, data, **kwargs):
        if data.get("single_member_cap_rate") == 0:
            raise ValidationError("单一成员持股上限须大于 0", "single_member_cap_rate")


class CooperativeIn(CharterFields):
    name = Text(128, required=True)
    credit_code = Identifier(required=True)
    village_id = Id(required=True)
    zone_id = Id(allow_none=True)
    founded_on = PastDate(required=True)
    distribution_method = fields.String(required=True,
                                        validate=validate.OneOf(DISTRIBUTION_METHODS))
    land_rate_fen_per_mu = Fen(required=True)
    single_member_cap_rate = Rate(required=True)
    industry = fields.String(required=True, validate=validate.Length(max=64))


class CooperativePatch(CharterFields):
    """Registration fields (county_admin only) and charter fields."""

    name = Text(128)
    credit_code = Identifier()
    village_id = Id()
    zone_id = Id(allow_none=True)
    founded_on = PastDate()
    # The basic account (基本存款账户) county awards and subsidies are paid into.
    bank_name = fields.String(allow_none=True, validate=validate.Length(max=64))
    bank_account = BankAccount(allow_none=True, max_length=40)


class CooperativeOut(Schema):
    id = Integer()
    county_id = Integer()
    town_id = Integer()
    village_id = Integer()
    zone_id = Integer(allow_none=True)
    name = fields.String()
    credit_code = fields.String()
    founded_on = fields.Date()
    industry = fields.String()
    status = fields.String()
    merged_into_id = Integer(allow_none=True)
    distribution_method = fields.String()
    land_rate_fen_per_mu = Integer()
    labour_ticket_rate_fen = Integer()
    single_member_cap_rate = Rate()
    collective_cap_applies = Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    bank_name = fields.String(allow_none=True)
    bank_account = fields.Function(lambda coop: coop.bank_account_masked, allow_none=True,
                                   metadata={"description": "masked"})


def QueryId(**kw) -> fields.Integer:  # noqa: N802 (query strings are text: not strict)
    return Integer(validate=validate.Range(min=1, max=MAX_ID), **kw)


class CooperativeListArgs(PageArgs):
    county_id = QueryId()
    town_id = QueryId()
    status = fields.String(validate=validate.OneOf(COOP_STATUSES))
    q = fields.String(validate=validate.Length(min=1, max=64))


class StatusChangeIn(Schema):
    to = fields.String(required=True, validate=validate.OneOf(COOP_STATUSES))
    reason = Text(255, required=True)
    merged_into_id = Id(allow_none=True)
    effective_on = fields.Date(metadata={"description": "生效日期，默认今天；不得晚于今天"})


class StatusChangeOut(Schema):
    id = Integer()
    cooperative_id = Integer()
    from_status = fields.String()
    to_status = fields.String()
    reason = fields.String()
    merged_into_id = Integer(allow_none=True)
    changed_by = Integer(allow_none=True)
    changed_at = fields.DateTime()
    effective_on = fields.Date()


# --- officers, managers, commissioners ----------------------------------------------------

class PersonIn(Schema):
    name = Text(64, required=True)
    id_card_no = Identifier(required=True)
    phone = Phone(allow_none=True, max_length=20)


class PersonOut(Schema):
    name = fields.String()
    id_card_no = fields.String(metadata={"description": "masked: 370123********1234"})
    phone = fields.String(allow_none=True)


class _Term(Schema):
    @validates_schema
    def _end_after_start(self, data, **kwargs):
        start, end = data.get(self.start_field), data.get(self.end_field)
        if start and end and end < start:
            raise ValidationError("结束日期不能早于开始日期", self.end_field)


class OfficerIn(_Term):
    start_field, end_field = "start_on", "end_on"
    person = fields.Nested(PersonIn, required=True)
    role = fields.String(required=True, validate=validate.OneOf(OFFICER_ROLES))
    village_committee_member = Boolean(required=True)
    start_on = fields.Date(required=True)
    end_on = fields.Date(allow_none=True)
    bank_name = fields.String(allow_none=True, validate=validate.Length(max=64))
    bank_account = BankAccount(allow_none=True, max_length=40)


class OfficerPatch(Schema):
    village_committee_member = Boolean()
    end_on = fields.Date(allow_none=True)
    phone = Phone(allow_none=True, max_length=20)
    bank_name = fields.String(allow_none=True, validate=validate.Length(max=64))
    bank_account = BankAccount(allow_none=True, max_length=40)


class OfficerOut(Schema):
    id = Integer()
    cooperative_id = Integer()
    person = fields.Nested(PersonOut)
    role = fields.String()
    village_committee_member = Boolean()
    start_on = fields.Date()
    end_on = fields.Date(allow_none=True)
    current = Boolean()
    bank_name = fields.String(allow_none=True)
    bank_account = fields.String(allow_none=True, metadata={"description": "masked"})


class ManagerIn(_Term):
    start_field, end_field = "contract_start", "contract_end"
    person = fields.Nested(PersonIn, required=True)
    contract_start = fields.Date(required=True)
    contract_end = fields.Date(required=True)
    base_pay_fen_per_year = Fen(required=True)
    bonus_rate = Rate(allow_none=True)
    bank_name = fields.String(allow_none=True, validate=validate.Length(max=64))
    bank_account = BankAccount(allow_none=True, max_length=40)


class ManagerPatch(Schema):
    contract_end = fields.Date()
    base_pay_fen_per_year = Fen()
    bonus_rate = Rate(allow_none=True)
    phone = Phone(allow_none=True, max_length=20)
    bank_name = fields.String(allow_none=True, validate=validate.Length(max=64))
    bank_account = BankAccount(allow_none=True, max_length=40)


class ManagerOut(Schema):
    id = Integer()
    cooperative_id = Integer()
    person = fields.Nested(PersonOut)
    contract_start = fields.Date()
    contract_end = fields.Date()
    base_pay_fen_per_year = Integer()
    bonus_rate = Rate(allow_none=True)
    bank_name = fields.String(allow_none=True)
    bank_account = fields.String(allow_none=True, metadata={"description": "masked"})


class CommissionerIn(Schema):
    user_id = Id(required=True)


class CommissionerOut(Schema):
    id = Integer(metadata={"description": "the role assignment id"})
    user_id = Integer()
    name = fields.String()
    cooperative_id = Integer()
    created_at = fields.DateTime()


# --- members -------------------------------------------------------------------------------

class MemberIn(Schema):
    name = Text(64, required=True)
    id_card_no = Identifier(required=True)
    phone = Phone(allow_none=True, max_length=20)
    member_type = Choice(MEMBER_TYPES, words=MEMBER_TYPE_WORDS, required=True)
    joined_on = fields.Date(required=True)
    bank_name = fields.String(allow_none=True, validate=validate.Length(max=64))
    bank_account = BankAccount(allow_none=True, max_length=40)


class MemberPatch(Schema):
    name = Text(64)
    id_card_no = Identifier()
    phone = Phone(allow_none=True, max_length=20)
    member_type = Choice(MEMBER_TYPES, words=MEMBER_TYPE_WORDS)
    joined_on = fields.Date()
    bank_name = fields.String(allow_none=True, validate=validate.Length(max=64))
    bank_account = BankAccount(allow_none=True, max_length=40)


class LeaveIn(Schema):
    on = fields.Date(required=True)
    reason = Text(255, required=True)


class MemberOut(Schema):
    id = Integer()
    cooperative_id = Integer()
    name = fields.String()
    member_type = fields.String()
    id_card_no = fields.String(metadata={"description": "masked: 370123********1234"})
    phone = fields.String(allow_none=True)
    joined_on = fields.Date()
    left_on = fields.Date(allow_none=True)
    leave_reason = fields.String(allow_none=True)
    status = fields.String()
    bank_name = fields.String(allow_none=True)
    bank_account = fields.String(allow_none=True, metadata={"description": "last four only"})
    created_at = fields.DateTime()


class MemberListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(MEMBER_STATUSES))
    member_type = fields.String(validate=validate.OneOf(MEMBER_TYPES))
    q = fields.String(validate=validate.Length(min=1, max=64))
    id_card_no = Identifier(validate=validate.Length(min=1, max=32),
                               metadata={"description": "exact match (via the keyed hash)"})


class ImportFile(Schema):
    file = Upload(required=True)


class ImportOut(Schema):
    imported = Integer()
    cooperative_id = Integer()


# --- compliance ------------------------------------------------------------------------------

class _Check(Schema):
    ok = Boolean()


class MemberCountCheck(_Check):
    value = Integer()
    minimum = Integer()


class FarmerRatioCheck(_Check):
    farmers = Integer()
    members = Integer()
    ratio = fields.String()
    minimum_rate = Rate()


class EnterpriseCheck(_Check):
    value = Integer()
    members = Integer()
    limit = Integer()


class LargestHolderCheck(_Check):
    member_id = Integer(allow_none=True)
    holding_fen = Integer()
    total_fen = Integer()
    holders = Integer()
    ratio = fields.String()
    cap_rate = Rate()
    collective_exempt = Boolean()


class CrossAppointmentCheck(_Check):
    officers = Integer()
    village_committee_members = Integer()
    ratio = fields.String()
    minimum_rate = Rate()


class ComplianceOut(Schema):
    cooperative_id = Integer()
    as_of = fields.Date()
    ok = Boolean()
    member_count = fields.Nested(MemberCountCheck)
    farmer_ratio = fields.Nested(FarmerRatioCheck)
    enterprise_members = fields.Nested(EnterpriseCheck)
    largest_holder_ratio = fields.Nested(LargestHolderCheck)
    cross_appointment_ratio = fields.Nested(CrossAppointmentCheck)
