"""The in-app inbox and the subscription answers: every user their own, nobody else's."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from coop.audit import AuditEntry
import coop.clock as clock
from coop.notifications.models import Notification, WechatSubscription
from coop.notifications.outbox import notify
from coop.transaction import unit_of_work
from tests.notifications.conftest import inbox


def tell(db, user, title, due_at=None):
    with unit_of_work(db.session):
        notify(db.session, [user.id], event="task_created", kind="round_to_approve",
               title=title, body=f"{title}的内容", object_type="reward_round", object_id=1,
               fields={"task": title}, due_at=due_at)
    return db.session.execute(select(func.max(Notification.id))).scalar_one()


@pytest.fixture
def alice(make):
    return make.login("county_finance", make.county())


@pytest.fixture
def bob(make):
    return make.login("county_finance", make.county())


def test_the_inbox_lists_newest_first_pages_and_counts_unread(client, db, alice, bob,
                                                              monkeypatch):
    start = clock.now()
    for n in range(3):
        moment = start + timedelta(minutes=n)
        monkeypatch.setattr(clock, "now", lambda moment=moment: moment)
        tell(db, alice[0], f"第{n}条")
    tell(db, bob[0], "别人的")
    body = inbox(client, alice[1], per_page=2)
    assert [n["title"] for n in body["items"]] == ["第2条", "第1条"]
    assert (body["total"], body["unread"], body["page"], body["per_page"]) == (3, 3, 1, 2)
    assert [n["title"] for n in inbox(client, alice[1], page=2, per_page=2)["items"]] == ["第0条"]
    item = body["items"][0]
    assert set(item) == {"id", "event", "kind", "title", "body", "object_type", "object_id",
                         "created_at", "read_at"}
    assert item["created_at"].endswith("+00:00")


def test_reading_marks_one_read_once_and_only_ones_own(client, db, alice, bob):
    mine, theirs = tell(db, alice[0], "我的"), tell(db, bob[0], "别人的")
    url = f"/api/v1/me/notifications/{mine}/read"
    assert client.post(url, headers=alice[1]).status_code == 204
    assert client.post(url, json={}, headers=alice[1]).status_code == 204     # again: no-op
    body = inbox(client, alice[1])
    assert body["unread"] == 0 and body["items"][0]["read_at"] is not None
    assert inbox(client, alice[1], unread="true")["items"] == []
    reads = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == "notification.read")).scalars().all()
    assert [(r.actor_id, r.object_id) for r in reads] == [(alice[0].id, str(mine))]
    # Somebody else's message is not found, and stays unread.
    response = client.post(f"/api/v1/me/notifications/{theirs}/read", headers=alice[1])
    assert response.status_code == 404
    assert db.session.get(Notification, theirs).read_at is None
    assert client.post("/api/v1/me/notifications/999999/read",
                       headers=alice[1]).status_code == 404
    response = client.post(url, json={"read_at": "2020-01-01"}, headers=alice[1])
    assert response.status_code == 422


def test_a_message_due_later_is_neither_listed_nor_readable_before(client, db, alice,
                                                                   monkeypatch):
    later = clock.now() + timedelta(days=7)
    note = tell(db, alice[0], "公示期满", due_at=later)
    assert inbox(client, alice[1])["total"] == 0
    url = f"/api/v1/me/notifications/{note}/read"
    assert client.post(url, headers=alice[1]).status_code == 404
    monkeypatch.setattr(clock, "now", lambda: later)
    assert inbox(client, alice[1])["unread"] == 1
    assert client.post(url, headers=alice[1]).status_code == 204


def test_the_inbox_needs_a_login(client):
    assert client.get("/api/v1/me/notifications").status_code == 401
    assert client.post("/api/v1/me/subscriptions", json={
        "template_key": "task_created", "accepted": True}).status_code == 401


def subscribe(client, headers, key="task_created", accepted=True):
    return client.post("/api/v1/me/subscriptions",
                       json={"template_key": key, "accepted": accepted}, headers=headers)


def test_each_acceptance_is_one_message_and_a_refusal_takes_none_back(client, db, alice, bob):
    assert subscribe(client, alice[1]).get_json() == {
        "template_key": "task_created", "accepted": True, "remaining": 1}
    assert subscribe(client, alice[1]).get_json()["remaining"] == 2
    assert subscribe(client, alice[1], accepted=False).get_json() == {
        "template_key": "task_created", "accepted": False, "remaining": 2}
    assert subscribe(client, alice[1], key="payout_paid", accepted=False).get_json()[
        "remaining"] == 0
    assert subscribe(client, bob[1]).get_json()["remaining"] == 1
    rows = {(s.user_id, s.template_key): (s.remaining, s.accepted_total, s.last_answer)
            for s in db.session.execute(select(WechatSubscription)).scalars()}
    assert rows == {(alice[0].id, "task_created"): (2, 2, "reject"),
                    (alice[0].id, "payout_paid"): (0, 0, "reject"),
                    (bob[0].id, "task_created"): (1, 1, "accept")}
    assert db.session.execute(select(AuditEntry.action).where(
        AuditEntry.actor_id == alice[0].id, AuditEntry.action.like("wechat%"))
    ).scalars().all() == ["wechat_subscription.answer"] * 4


@pytest.mark.parametrize("body", [
    {"template_key": "birthday", "accepted": True},
    {"template_key": "task_created", "accepted": "accept"},
    {"template_key": "task_created", "accepted": 1},
    {"template_key": "task_created"},
    {"template_key": "task_created", "accepted": True, "remaining": 50},
])
def test_a_malformed_answer_is_refused(client, db, alice, body):
    response = client.post("/api/v1/me/subscriptions", json=body, headers=alice[1])
    assert response.status_code == 422, response.get_json()
    assert db.session.execute(select(WechatSubscription)).first() is None
