"""Writing notifications: one inbox row per recipient and, when the event has a WeChat
template and the recipient is bound to WeChat, its delivery row for `flask notify send`.

Called from the audit listener (events.py), so in the transaction of the change: a change
rolled back leaves no notification, a committed one always has its notifications.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Iterable

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.models import WechatBinding
import coop.clock as clock
from coop.notifications.models import Notification, WechatDelivery


def configured_templates() -> dict[str, str]:
    """{event: template id} of the events WeChat messages are configured for."""
    if not has_app_context():
        return {}
    return {k: v for k, v in (current_app.config.get("WECHAT_TEMPLATES") or {}).items() if v}


def _json(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"cannot store a {type(value).__name__} in a notification")


def notify(session: Session, user_ids: Iterable[int], *, event: str, kind: str, title: str,
           body: str, object_type: str, object_id: int, fields: dict,
           due_at: datetime | None = None, exclude: int | None = None) -> list[Notification]:
    """Tell each of `user_ids` (but `exclude`, the actor: nobody is told of their own
    action) about one event. Returns the notifications written."""
    recipients = sorted(set(user_ids) - {exclude})
    if not recipients:
        return []
    now = clock.now()
    due = due_at or now
    bound: set[int] = set()
    if event in configured_templates():
        bound = set(session.execute(select(WechatBinding.user_id).where(
            WechatBinding.user_id.in_(recipients))).scalars())
    stored = json.dumps(fields, ensure_ascii=False, sort_keys=True, default=_json)
    written = []
    for user_id in recipients:
        note = Notification(user_id=user_id, event=event, kind=kind, title=title[:100],
                            body=body[:500], object_type=object_type, object_id=object_id,
                            fields=stored, due_at=due, created_at=now)
        if user_id in bound:
            note.delivery = WechatDelivery(user_id=user_id, template_key=event,
                                           status="pending", attempts=0,
                                           next_attempt_at=due, created_at=now)
        session.add(note)
        written.append(note)
    return written
