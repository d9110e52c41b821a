"""Bodies of the inbox and subscription routes (unknown fields → 422)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from coop.fields import Boolean, NoBodyIn
from coop.notifications.models import TEMPLATE_KEYS
from coop.pagination import PageArgs

__all__ = ["InboxArgs", "NotificationOut", "InboxOut", "SubscriptionIn", "SubscriptionOut",
           "NoBodyIn"]


class InboxArgs(PageArgs):
    unread = Boolean(load_default=False,
                     metadata={"description": "true：只列未读"})


class NotificationOut(Schema):
    id = fields.Integer(required=True)
    event = fields.String(required=True, metadata={"description": "事件（模板键）"})
    kind = fields.String(required=True,
                         metadata={"description": "如 application_to_decide、payout_paid"})
    title = fields.String(required=True)
    body = fields.String(required=True)
    object_type = fields.String(required=True)
    object_id = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True)


class InboxOut(Schema):
    items = fields.List(fields.Nested(NotificationOut), required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    unread = fields.Integer(required=True, metadata={"description": "未读总数"})


class SubscriptionIn(Schema):
    template_key = fields.String(required=True,
                                 validate=validate.OneOf(TEMPLATE_KEYS))
    accepted = Boolean(required=True,
                       metadata={"description": "wx.requestSubscribeMessage 对该模板"
                                                "答 'accept' 为 true，其他为 false"})


class SubscriptionOut(Schema):
    template_key = fields.String(required=True)
    accepted = fields.Boolean(required=True)
    remaining = fields.Integer(required=True,
                               metadata={"description": "尚可发送的该模板消息条数"})
