"""Writing notifications: one inbox row per recipient and, when the event has a WeChat
template and the recipient is bound to WeChat, queued for `flask notify send`.

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
from coop.notifications.models import Notification


def configured_templates() -> dict[str, str]:
    """{event: template id} of the events WeChat messages are configured for."""
    if not has_app_context():
        return {}
    return {k: v for k, v in (current_app.config.get("WECHAT_TEMPLATES") or {}).items() if v}


def bound_users(session: Session, user_ids) -> set[int]:
    """Which of `user_ids` are bound to WeChat."""
    ids = sorted(set(user_ids))
    found: set[int] = set()
    for start in range(0, len(ids), 1000):
        found.update(session.execute(select(WechatBinding.user_id).where(
            WechatBinding.user_id.in_(ids[start:start + 1000]))).scalars())
    return found


def _json(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"cannot store a {type(value).__name__} in a notification")


def notify(session: Session, user_ids: Iterable[int], *, event: str, kind: str, title: str,
           body: str, object_type: str, object_id: int, fields: dict,
           due_at: datetime | None = None, exclude: int | None = None) -> None:
    """Tell each of `user_ids` (but `exclude`, the actor: nobody is told of their own
    action) about one event."""
    recipients = sorted(set(user_ids) - {exclude})
    write(session, [note(user_id, event=event, kind=kind, title=title, body=body,
                                object_type=object_type, object_id=object_id, fields=fields,
                                due_at=due_at) for user_id in recipients])


def note(user_id: int, *, event: str, kind: str, title: str, body: str, object_type: str,
         object_id: int, fields: dict, due_at: datetime | None = None) -> dict:
    """One notification as a row for `write`."""
    return dict(user_id=user_id, event=event, kind=kind, title=title[:100], body=body[:500],
                object_type=object_type, object_id=object_id, due_at=due_at,
                fields=json.dumps(fields, ensure_ascii=False, sort_keys=True, default=_json))


def write(session: Session, notes: list[dict]) -> None:
    """Write many notifications (rows from `note`) in one statement, whatever their number
    (a bank return tells every member of a 5,000-line batch); those whose event has a
    WeChat template and whose user is bound are queued for `flask notify send`."""
    if not notes:
        return
    now = clock.now()
    templated = configured_templates()
    wanted = [row["user_id"] for row in notes if row["event"] in templated]
    bound = bound_users(session, wanted) if wanted else set()
    for row in notes:
        row["due_at"] = row["due_at"] or now
        row["created_at"] = now
        queued = row["event"] in templated and row["user_id"] in bound
        row["wechat_status"] = "pending" if queued else None
        row["next_attempt_at"] = row["due_at"] if queued else None
        row["attempts"] = 0
    session.execute(_NOTIFICATIONS, notes)


# A plain Core statement: ORM objects for 5,000 notifications would cost more than the
# rest of the request.
_NOTIFICATIONS = Notification.__table__.insert()
