"""`flask notify send` (cron, every minute): send the WeChat messages that are due (the
notifications whose `wechat_status` is pending and whose `next_attempt_at` has come).

Nothing is sent twice, however many senders run:
* a message is claimed by one conditional UPDATE (`wechat_status` pending → sending, with
  a lease `claimed_until` and a random `claim_token`); the rowcount says who won, the
  loser moves on;
* its outcome is written only by the claim's holder (`WHERE claim_token = …`);
* a claim whose lease ran out while still `sending` means its sender died mid-call: WeChat
  may have delivered it, so it is recorded `failed` (`lease_expired`), never sent again.

Outcomes: `sent`; `no_quota` when the user has no acceptance of the template left (known
here, or WeChat's 43101: not retried); transient trouble (network, timeouts, WeChat's −1
or rate limits) goes back to `pending` for a later run with exponential backoff
(NOTIFY_BACKOFF_SECONDS × 2^(attempt−1)) until NOTIFY_MAX_ATTEMPTS, then `failed`; any other
errcode is `failed` at once, with WeChat's errcode kept.
"""
from __future__ import annotations

import logging
import secrets
from collections import Counter
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from auth.models import WechatBinding
import coop.clock as clock
from coop.notifications import templates, wechat
from coop.notifications.models import DeliveryStatus as Status
from coop.notifications.models import Notification, WechatSubscription
from coop.notifications.outbox import configured_templates
from coop.transaction import unit_of_work

log = logging.getLogger("coop.notifications.sender")
D = Notification


def _setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def send_due(limit: int = 1000) -> Counter:
    """Send up to `limit` due deliveries; counts by outcome (and `lost` for a claim
    another sender won)."""
    counts: Counter = Counter()
    counts["lease_expired"] = expire_leases()
    with unit_of_work() as session:
        due = list(session.execute(select(D.id).where(
            D.wechat_status == Status.PENDING, D.next_attempt_at <= clock.now())
            .order_by(D.id).limit(limit)).scalars())
    for delivery_id in due:
        token = claim(delivery_id)
        if token is None:
            counts["lost"] += 1
            continue
        counts[deliver(delivery_id, token)] += 1
    return counts


def expire_leases() -> int:
    with unit_of_work() as session:
        return session.execute(update(D).where(
            D.wechat_status == Status.SENDING, D.claimed_until < clock.now()).values(
            wechat_status=Status.FAILED, error="lease_expired", claimed_until=None,
            claim_token=None)
            .execution_options(synchronize_session=False)).rowcount


def claim(delivery_id: int) -> str | None:
    """Take the delivery for this sender, or None if another one has it (or it is done)."""
    token = secrets.token_hex(16)
    now = clock.now()
    lease = timedelta(seconds=_setting("NOTIFY_LEASE_SECONDS", 120))
    with unit_of_work() as session:
        won = session.execute(update(D).where(
            D.id == delivery_id, D.wechat_status == Status.PENDING, D.next_attempt_at <= now)
            .values(wechat_status=Status.SENDING, claimed_until=now + lease, claim_token=token,
                    attempts=D.attempts + 1)
            .execution_options(synchronize_session=False)).rowcount
    return token if won == 1 else None


def _finish(delivery_id: int, token: str, status: str, **values) -> None:
    with unit_of_work() as session:
        done = session.execute(update(D).where(
            D.id == delivery_id, D.claim_token == token, D.wechat_status == Status.SENDING)
            .values(wechat_status=status, claimed_until=None, claim_token=None, **values)
            .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        log.error("delivery outcome lost: its lease ran out meanwhile",
                  extra={"delivery_id": delivery_id, "outcome": status})


def _quota(session, user_id: int, key: str, *, spend: bool = False, clear: bool = False):
    sub = WechatSubscription
    where = (sub.user_id == user_id, sub.template_key == key)
    if spend:
        session.execute(update(sub).where(*where, sub.remaining > 0)
                        .values(remaining=sub.remaining - 1, updated_at=clock.now())
                        .execution_options(synchronize_session=False))
    elif clear:
        session.execute(update(sub).where(*where).values(remaining=0, updated_at=clock.now())
                        .execution_options(synchronize_session=False))
    else:
        return session.execute(select(sub.remaining).where(*where)).scalar_one_or_none() or 0


def deliver(delivery_id: int, token: str) -> str:
    """Send one claimed delivery and record its outcome; returns the outcome."""
    with unit_of_work() as session:
        note = session.get(Notification, delivery_id)
        key, user_id, attempts, fields = note.event, note.user_id, note.attempts, note.fields
        openid = session.execute(select(WechatBinding.openid).where(
            WechatBinding.user_id == user_id).order_by(WechatBinding.id.desc()).limit(1)
        ).scalar_one_or_none()
        remaining = _quota(session, user_id, key)
    template_id = configured_templates().get(key)
    if openid is None or template_id is None:
        why = "not_bound" if openid is None else "template_not_configured"
        _finish(delivery_id, token, Status.FAILED, error=why)
        return Status.FAILED
    if remaining <= 0:
        _finish(delivery_id, token, Status.NO_QUOTA, error="no_acceptance")
        return Status.NO_QUOTA
    cfg = current_app.config
    data = templates.render(key, fields, cfg.get("WECHAT_TEMPLATE_FIELDS"))
    try:
        wechat.send_message(openid, template_id, data, cfg.get("NOTIFY_PAGE"))
    except wechat.WechatError as exc:
        return _failed(delivery_id, token, user_id, key, attempts, exc)
    _finish(delivery_id, token, Status.SENT, sent_at=clock.now(), errcode=None, error=None)
    with unit_of_work() as session:
        _quota(session, user_id, key, spend=True)
    return Status.SENT


def _failed(delivery_id: int, token: str, user_id: int, key: str, attempts: int,
            exc: wechat.WechatError) -> str:
    if exc.errcode == wechat.NO_QUOTA:
        _finish(delivery_id, token, Status.NO_QUOTA, errcode=exc.errcode, error=exc.detail)
        with unit_of_work() as session:      # WeChat knows better than our count
            _quota(session, user_id, key, clear=True)
        return Status.NO_QUOTA
    if exc.transient and attempts < _setting("NOTIFY_MAX_ATTEMPTS", 5):
        wait = _setting("NOTIFY_BACKOFF_SECONDS", 60) * 2 ** (attempts - 1)
        _finish(delivery_id, token, Status.PENDING, errcode=exc.errcode, error=exc.detail,
                next_attempt_at=clock.now() + timedelta(seconds=wait))
        return "retry"
    _finish(delivery_id, token, Status.FAILED, errcode=exc.errcode, error=exc.detail)
    return Status.FAILED
