"""The in-app inbox and the subscriptions the mini-program reports (CONTRACT §12).

Every user reads only their own notifications: the queries filter on the caller's id, so
anybody else's notification is 404 like an object outside one's scope.
"""
from __future__ import annotations

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

import coop.audit as audit
import coop.clock as clock
from coop.errors import NotFound
from coop.notifications.models import Notification, WechatSubscription
from coop.pagination import paginate
from coop.transaction import flush_or_conflict

# One acceptance is one message; more than this many unsent ones is a client looping.
MAX_REMAINING = 100


def notification_dict(note: Notification) -> dict:
    return {"id": note.id, "event": note.event, "kind": note.kind, "title": note.title,
            "body": note.body, "object_type": note.object_type, "object_id": note.object_id,
            "created_at": note.due_at, "read_at": note.read_at}


def inbox_page(session: Session, user_id: int, page: int, per_page: int,
               unread_only: bool = False) -> dict:
    """The caller's notifications that are due, newest first, with the unread count."""
    now = clock.now()
    mine = (Notification.user_id == user_id, Notification.due_at <= now)
    stmt = select(Notification).where(*mine)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    out = paginate(session, stmt.order_by(Notification.due_at.desc(), Notification.id.desc()),
                   page, per_page)
    out["items"] = [notification_dict(n) for n in out["items"]]
    out["unread"] = session.execute(select(func.count()).where(
        *mine, Notification.read_at.is_(None))).scalar_one()
    return out


def mark_read(session: Session, user, notification_id: int) -> None:
    """Mark one of the caller's notifications read (again: no change)."""
    note = session.get(Notification, notification_id)
    if note is None or note.user_id != user.id or note.due_at > clock.now():
        raise NotFound()
    if note.read_at is not None:
        return
    now = clock.now()
    changed = session.execute(update(Notification).where(
        Notification.id == note.id, Notification.read_at.is_(None)).values(read_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if changed:
        audit.record(session, user, "notification.read", "notification", note.id,
                     after={"read_at": now})


def record_answer(session: Session, user, template_key: str, accepted: bool) -> dict:
    """What `wx.requestSubscribeMessage` answered for one template: an acceptance adds one
    message to the user's quota for it; a refusal changes nothing already accepted
    (WeChat keeps earlier acceptances too)."""
    now = clock.now()
    sub = session.execute(select(WechatSubscription).where(
        WechatSubscription.user_id == user.id, WechatSubscription.template_key == template_key)
    ).scalar_one_or_none()
    if sub is None:
        sub = WechatSubscription(user_id=user.id, template_key=template_key, remaining=0,
                                 accepted_total=0, last_answer="reject", created_at=now)
        session.add(sub)
        flush_or_conflict(session, "订阅记录正被同时修改，请重试")
    col = WechatSubscription.remaining
    values = dict(last_answer="accept" if accepted else "reject", updated_at=now)
    if accepted:    # one UPDATE, so two answers at once both count
        values.update(remaining=case((col >= MAX_REMAINING, MAX_REMAINING), else_=col + 1),
                      accepted_total=WechatSubscription.accepted_total + 1)
    session.execute(update(WechatSubscription).where(WechatSubscription.id == sub.id)
                    .values(**values).execution_options(synchronize_session=False))
    session.refresh(sub)
    audit.record(session, user, "wechat_subscription.answer", "user", user.id,
                 after={"template_key": template_key, "accepted": accepted,
                        "remaining": sub.remaining})
    return {"template_key": template_key, "accepted": accepted, "remaining": sub.remaining}
