"""`flask notify send` against the fake WeChat server (tests/auth/fake_wechat.py): the
shared access token, renewals, quotas, retries with backoff, the field limits, and two
sender processes racing over the same outbox."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

import coop.clock as clock
from coop.notifications import sender
from coop.notifications.models import Notification, WechatAccessToken, WechatSubscription
from coop.notifications.outbox import notify
from coop.notifications.wechat import access_token
from coop.transaction import unit_of_work
from tests.auth.fake_wechat import base_url
from tests.county.test_evaluations import make_program
from tests.county.test_subsidies import apply
from tests.notifications.conftest import bind

ROOT = Path(__file__).resolve().parents[2]
SEND = "/cgi-bin/message/subscribe/send"
TOKEN = "/cgi-bin/stable_token"


def calls(wx, path):
    return [r for r in wx.received if r["path"] == path]


def queue(db, user, n=1, event="task_created", fields=None) -> list[int]:
    """`n` notifications to `user` (queued for WeChat if bound); their ids."""
    with unit_of_work(db.session):
        for i in range(n):
            notify(db.session, [user.id], event=event, kind="round_to_approve",
                   title=f"第{i}条", body="内容", object_type="reward_round", object_id=i + 1,
                   fields=fields or {"task": f"任务{i}", "subject": "单县", "at": clock.now()})
    return sorted(db.session.execute(select(Notification.id).where(
        Notification.user_id == user.id).order_by(Notification.id.desc()).limit(n)).scalars())


def deliveries(db) -> dict[int, Notification]:
    """The notifications queued for WeChat, by id."""
    db.session.expire_all()
    return {n.id: n for n in db.session.execute(select(Notification).where(
        Notification.wechat_status.is_not(None))).scalars()}


def run(db, runner=None):
    """One `flask notify send`, through the CLI."""
    db.session.commit()
    result = runner.invoke(args=["notify", "send"])
    assert result.exit_code == 0, result.output
    return dict(pair.split("=") for pair in result.output.split())


@pytest.fixture
def user(make):
    return make.user("county_finance", make.county())


def test_messages_are_sent_with_one_token_and_spend_one_acceptance_each(wx, db, user,
                                                                       runner):
    bind(db.session, user, "openid-1", {"task_created": 2})
    ids = queue(db, user, 3)
    assert run(db, runner) == {"sent": "2", "no_quota": "1", "failed": "0", "retry": "0",
                               "lost": "0", "lease_expired": "0"}
    assert len(calls(wx, TOKEN)) == 1 and calls(wx, TOKEN)[0]["body"]["force_refresh"] is False
    assert [m["touser"] for m in wx.sent] == ["openid-1", "openid-1"]
    assert all(m["template_id"] == "TPL-task_created" and m["page"] == "pages/inbox/inbox"
               for m in wx.sent)
    rows = deliveries(db)
    assert [rows[i].wechat_status for i in ids] == ["sent", "sent", "no_quota"]
    assert rows[ids[2]].errcode is None                 # known here: WeChat was not asked
    assert db.session.execute(select(WechatSubscription.remaining)).scalar_one() == 0
    # The token row is shared, and encrypted at rest.
    row = db.session.execute(select(WechatAccessToken)).scalar_one()
    assert row.fetch_count == 1 and "TOKEN-" not in row.token_enc
    # Sent is sent: another run sends nothing again.
    assert run(db, runner)["sent"] == "0" and len(wx.sent) == 2


def test_a_refused_token_is_renewed_once_and_the_message_tried_again(wx, db, user, runner):
    bind(db.session, user, "openid-1", {"task_created": 3})
    queue(db, user, 1)
    run(db, runner)
    wx.revoked.add(wx.tokens[0])                      # WeChat kills the token
    queue(db, user, 1)
    assert run(db, runner)["sent"] == "1"
    assert [c["body"]["force_refresh"] for c in calls(wx, TOKEN)] == [False, True]
    assert len(wx.sent) == 2
    # A token refused again right after renewal: renewed once only, then failed.
    wx.refuse_every_token = True
    wx_tokens_before = len(wx.tokens)
    [note_id] = queue(db, user, 1)
    assert run(db, runner)["failed"] == "1"
    assert len(wx.tokens) == wx_tokens_before + 1
    assert (deliveries(db)[note_id].wechat_status, deliveries(db)[note_id].errcode) == ("failed", 40001)


def test_two_workers_refused_the_same_token_renew_it_once(wx, db, app):
    with app.app_context():
        first = access_token()
        wx.revoked.add(first)
        renewed = access_token(refused=first)
        # The second worker was refused the same old token: it finds the new one.
        assert access_token(refused=first) == renewed != first
    assert len(calls(wx, TOKEN)) == 2


def test_a_token_is_renewed_ahead_of_its_expiry(wx, db, app, monkeypatch):
    wx.token_lifetime = 7200
    with app.app_context():
        first = access_token()
        start = clock.now()
        monkeypatch.setattr(clock, "now", lambda: start + timedelta(seconds=6800))
        assert access_token() == first
        monkeypatch.setattr(clock, "now", lambda: start + timedelta(seconds=6901))
        assert access_token() != first
    assert [c["body"]["force_refresh"] for c in calls(wx, TOKEN)] == [False, False]


def test_no_quota_from_wechat_is_recorded_and_not_retried(wx, db, user, runner):
    bind(db.session, user, "quota0-user", {"task_created": 5})
    [note_id] = queue(db, user, 1)
    assert run(db, runner)["no_quota"] == "1"
    row = deliveries(db)[note_id]
    assert (row.wechat_status, row.errcode, row.attempts) == ("no_quota", 43101, 1)
    assert db.session.execute(select(WechatSubscription.remaining)).scalar_one() == 0
    run(db, runner)
    assert len(calls(wx, SEND)) == 1


def test_a_network_error_is_retried_with_backoff_then_failed(wx, db, user, runner, app,
                                                            monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_MAX_ATTEMPTS", 3)
    monkeypatch.setitem(app.config, "NOTIFY_BACKOFF_SECONDS", 60)
    bind(db.session, user, "down-user", {"task_created": 1})
    [note_id] = queue(db, user, 1)
    start = clock.now()
    assert run(db, runner)["retry"] == "1"
    row = deliveries(db)[note_id]
    assert (row.wechat_status, row.attempts, row.errcode, row.error) == (
        "pending", 1, None, "ConnectionError")
    assert row.next_attempt_at - start >= timedelta(seconds=60)
    assert run(db, runner)["retry"] == "0"              # not yet due: WeChat not asked
    assert len(calls(wx, SEND)) == 1
    for wait, outcome in ((61, "retry"), (61 + 121, "failed")):
        monkeypatch.setattr(clock, "now", lambda wait=wait: start + timedelta(seconds=wait))
        assert run(db, runner)[outcome] == "1"
    row = deliveries(db)[note_id]
    assert (row.wechat_status, row.attempts, row.error) == ("failed", 3, "ConnectionError")
    assert len(calls(wx, SEND)) == 3
    # The acceptance was not spent: nothing was delivered.
    assert db.session.execute(select(WechatSubscription.remaining)).scalar_one() == 1


def test_another_errcode_fails_at_once_with_it(wx, db, user, runner):
    bind(db.session, user, "err47003-user", {"task_created": 1})
    [note_id] = queue(db, user, 1)
    assert run(db, runner)["failed"] == "1"
    row = deliveries(db)[note_id]
    assert (row.wechat_status, row.errcode, row.attempts) == ("failed", 47003, 1)


def test_a_sender_that_died_mid_send_never_has_its_message_sent_again(wx, db, user, runner,
                                                                       monkeypatch):
    bind(db.session, user, "openid-1", {"task_created": 1})
    [note_id] = queue(db, user, 1)
    assert sender.claim(note_id) is not None        # …and the process is killed here
    later = clock.now() + timedelta(seconds=121)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert run(db, runner)["lease_expired"] == "1"
    assert deliveries(db)[note_id].wechat_status == "failed" and wx.sent == []


def test_fields_are_trimmed_to_wechats_limits(wx, client, make, world, db, runner):
    long_name = "单县终兴镇毛庄村党支部领办富民果蔬种植专业合作社联合社"
    world.coop.name = long_name
    db.session.commit()
    bind(db.session, world.finance1[0], "openid-f1", {"task_created": 1})
    program = make_program(client, world)
    assert apply(client, world, program["id"], 123_456).status_code == 201
    assert run(db, runner)["sent"] == "1"
    [message] = wx.sent
    data = {k: v["value"] for k, v in message["data"].items()}
    assert data["thing2"] == long_name[:19] + "…" and len(data["thing2"]) == 20
    assert data["thing1"] == "补助申请待审批"
    assert data["time3"].startswith(f"{clock.today().year}年")
    # The inbox keeps the whole name.
    body = db.session.execute(select(Notification.body).where(
        Notification.user_id == world.finance1[0].id)).scalar_one()
    assert long_name in body


def test_the_token_is_never_logged(wx, db, user, runner, caplog):
    caplog.set_level(logging.DEBUG)
    bind(db.session, user, "openid-1", {"task_created": 1})
    queue(db, user, 1)
    assert run(db, runner)["sent"] == "1"
    wx.revoked.update(wx.tokens)
    queue(db, user, 1)
    run(db, runner)
    logged = "\n".join(r.getMessage() + " " + str(r.__dict__) for r in caplog.records)
    assert wx.tokens and not any(token in logged for token in wx.tokens)
    assert "wx-dev-secret" not in logged


def _start_senders(app, wechat_server, tmp_path, n=2):
    env = {**os.environ, "NOTIFY_TEST_DB": app.config["SQLALCHEMY_DATABASE_URI"],
           "NOTIFY_TEST_WECHAT": base_url(wechat_server), "PYTHONPATH": str(ROOT)}
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-m", "tests.notifications.sender_process",
                               str(go)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(n)]
    for proc in procs:      # each has built its app: start them together
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    go.touch()
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    return outputs


def test_two_sender_processes_send_each_message_exactly_once_with_one_token(
        wx, db, make, app, wechat_server, tmp_path):
    users = [make.user("county_finance", make.county()) for _ in range(4)]
    for n, u in enumerate(users):
        bind(db.session, u, f"openid-{n}", {"task_created": 10})
    for u in users:
        queue(db, u, 10)
    db.session.commit()
    wx.token_delay = 0.3        # both ask for the token while the first fetch is under way
    wx.send_delay = 0.02
    started = time.monotonic()
    outputs = _start_senders(app, wechat_server, tmp_path)
    assert time.monotonic() - started < 120
    assert len(wx.tokens) == 1
    assert sum(o.get("sent", 0) for o in outputs) == 40
    assert all(o.get("sent", 0) > 0 for o in outputs), outputs   # both really raced
    sent = [(m["touser"], m["data"]["thing1"]["value"]) for m in wx.sent]
    assert len(sent) == len(set(sent)) == 40
    rows = deliveries(db)
    assert {r.wechat_status for r in rows.values()} == {"sent"}
    assert all(r.attempts == 1 for r in rows.values())
