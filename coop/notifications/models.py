"""The inbox, the WeChat outbox, subscription quotas and the shared access token."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coop.dbtypes import UTCDateTime, created_at, fk, intpk
from coop.extensions import db

__all__ = ["TEMPLATE_KEYS", "DeliveryStatus", "Notification", "WechatSubscription",
           "WechatAccessToken"]

# The events a WeChat template may be configured for (CONTRACT §12, WECHAT_TEMPLATES keys).
TEMPLATE_KEYS = ("task_created", "application_decided", "disbursement_made",
                 "notice_published", "payout_paid", "payout_failed")


class DeliveryStatus(StrEnum):
    """`Notification.wechat_status`."""
    PENDING = "pending"       # due, or waiting for its next try
    SENDING = "sending"       # claimed by one sender until `claimed_until`
    SENT = "sent"
    NO_QUOTA = "no_quota"     # the user accepted no (more) message of this template: 43101
    FAILED = "failed"


class Notification(db.Model):
    """One message in one user's inbox, and its WeChat outbox entry. Written in the
    transaction of the change it tells about; shown, and sent, from `due_at` (a notice
    period's end is told when it ends).

    `wechat_status` is null when the message goes to the inbox only (no template for the
    event, or the user not bound to WeChat); otherwise the sender (sender.py) moves it
    from pending to sent, no_quota or failed, at most once. The outbox lives in the same
    row so that a bank return telling 5,000 members is one INSERT, with no ids to read
    back for a second table."""

    __tablename__ = "notifications"

    id: Mapped[intpk]
    user_id: Mapped[int] = fk("users.id", nullable=False)
    event: Mapped[str] = mapped_column(String(32), nullable=False)    # a TEMPLATE_KEYS key
    kind: Mapped[str] = mapped_column(String(40), nullable=False)     # e.g. application_to_decide
    title: Mapped[str] = mapped_column(String(100), nullable=False)
    body: Mapped[str] = mapped_column(String(500), nullable=False)
    object_type: Mapped[str] = mapped_column(String(32), nullable=False)
    object_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # The values a WeChat template shows (JSON; see templates.py), kept as the change saw them.
    fields: Mapped[str] = mapped_column(Text, nullable=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[created_at]
    # The WeChat outbox (the event is the template key).
    wechat_status: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    errcode: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        db.Index("ix_notifications_user_due", "user_id", "due_at"),
        db.Index("ix_notifications_object", "object_type", "object_id"),
        db.Index("ix_notifications_wechat_due", "wechat_status", "next_attempt_at"),
    )


class WechatSubscription(db.Model):
    """What the user's `wx.requestSubscribeMessage` answers added up to, per template:
    each acceptance is one message WeChat lets us send (one-time subscriptions)."""

    __tablename__ = "wechat_subscriptions"

    id: Mapped[intpk]
    user_id: Mapped[int] = fk("users.id", nullable=False)
    template_key: Mapped[str] = mapped_column(String(32), nullable=False)
    remaining: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    accepted_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_answer: Mapped[str] = mapped_column(String(8), nullable=False)   # accept | reject
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("user_id", "template_key"),)


class WechatAccessToken(db.Model):
    """The mini-program's access token, one row per appid, shared by every worker and
    server. Encrypted at rest like bank accounts: it is a credential."""

    __tablename__ = "wechat_access_tokens"

    appid: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_enc: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    renew_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fetch_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
