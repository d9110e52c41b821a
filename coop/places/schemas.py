"""Request and response bodies of the places routes (unknown fields → 422)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from coop.dbtypes import MAX_ID
from coop.fields import BankAccount, Identifier, Integer, Phone
from coop.places.settings import ZONE_VILLAGES_LIMIT

NAME = validate.Length(min=1, max=64)


class CountyIn(Schema):
    name = fields.String(required=True, validate=NAME)
    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{6}\Z"))


class CountyOut(Schema):
    id = Integer()
    name = fields.String()
    code = fields.String()


class TownIn(Schema):
    name = fields.String(required=True, validate=NAME)
    code = fields.String(validate=validate.Regexp(r"^[0-9]{9}\Z"))


class TownOut(Schema):
    id = Integer()
    county_id = Integer()
    name = fields.String()
    code = fields.String(allow_none=True)


class VillageIn(Schema):
    name = fields.String(required=True, validate=NAME)
    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{12}\Z"))
    party_secretary_name = fields.String(validate=NAME)


class VillageOut(Schema):
    id = Integer()
    county_id = Integer()
    town_id = Integer()
    name = fields.String()
    code = fields.String()
    party_secretary_name = fields.String(
        allow_none=True, dump_only=True,
        metadata={"description": "the secretary in office today (read-only; see "
                                 "/villages/{id}/secretaries)"})


class SecretaryPersonIn(Schema):
    name = fields.String(required=True, validate=NAME)
    id_card_no = Identifier(allow_none=True)
    phone = Phone(allow_none=True, max_length=20)


class SecretaryIn(Schema):
    person = fields.Nested(SecretaryPersonIn, required=True)
    start_on = fields.Date(required=True)
    end_on = fields.Date(allow_none=True)
    bank_name = fields.String(allow_none=True, validate=validate.Length(max=64))
    bank_account = BankAccount(allow_none=True, max_length=40)


class SecretaryPatch(Schema):
    end_on = fields.Date(allow_none=True)
    bank_name = fields.String(allow_none=True, validate=validate.Length(max=64))
    bank_account = BankAccount(allow_none=True, max_length=40)
    phone = Phone(allow_none=True, max_length=20)


class SecretaryPersonOut(Schema):
    name = fields.String()
    id_card_no = fields.String(allow_none=True, metadata={"description": "masked"})
    phone = fields.String(allow_none=True, metadata={"description": "masked"})


class SecretaryOut(Schema):
    id = Integer()
    village_id = Integer()
    person = fields.Nested(SecretaryPersonOut)
    start_on = fields.Date()
    end_on = fields.Date(allow_none=True)
    bank_name = fields.String(allow_none=True)
    bank_account = fields.String(allow_none=True, metadata={"description": "masked"})
    in_office = fields.Boolean()


def _zone_village_ids(**kw):
    # How many: the county's setting (coop/places/settings.py), checked by the service.
    return fields.List(
        Integer(validate=validate.Range(min=1, max=MAX_ID)),
        validate=validate.Length(min=1, max=ZONE_VILLAGES_LIMIT),
        metadata={"description": "本县设定的片区村数（默认 3–5）"}, **kw)


class ZoneIn(Schema):
    name = fields.String(required=True, validate=NAME)
    town_id = Integer(required=True,
                      validate=validate.Range(min=1, max=MAX_ID))
    village_ids = _zone_village_ids(required=True)
    secretary_name = fields.String(validate=NAME)


class ZonePatch(Schema):
    name = fields.String(validate=NAME)
    village_ids = _zone_village_ids()
    secretary_name = fields.String(allow_none=True, validate=NAME)


class ZoneOut(Schema):
    id = Integer()
    county_id = Integer()
    town_id = Integer()
    name = fields.String()
    secretary_name = fields.String(allow_none=True)
    village_ids = fields.List(Integer())
