"""Request and response shapes of the attachments routes (CONTRACT §13)."""
from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from coop.attachments.models import KINDS, OBJECT_TYPES
from coop.dbtypes import MAX_ID
from coop.fields import Integer
from coop.pagination import PageArgs


def _id(**kw):
    return Integer(validate=validate.Range(min=1, max=MAX_ID), **kw)


class AttachmentForm(Schema):
    object_type = fields.String(required=True, validate=validate.OneOf(OBJECT_TYPES))
    object_id = _id(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    supersedes_id = _id(metadata={"description": "the attachment of the same object this "
                                                 "one replaces (it stays, marked superseded)"})


class AttachmentFile(Schema):
    file = Upload(required=True)


class AttachmentListArgs(PageArgs):
    object_type = fields.String(required=True, validate=validate.OneOf(OBJECT_TYPES))
    object_id = _id(required=True)


class AttachmentOut(Schema):
    id = fields.Integer()
    object_type = fields.String()
    object_id = fields.Integer()
    kind = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    supersedes_id = fields.Integer(allow_none=True)
    superseded = fields.Boolean()
    created_by = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
