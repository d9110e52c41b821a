"""Idempotency-Key: replay, conflicting reuse, and two concurrent requests with one key."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import func, select

from auth.policy import ANY_USER, access
from coop import create_app
from coop.dbtypes import utcnow
from coop.errors import RuleViolation
from coop.extensions import db as _db
from coop.idempotency import IdempotencyRecord, idempotent, prune
from tests.conftest import TEST_CONFIG, IsolatedClient

EXECUTIONS: list[int] = []


class PayIn(Schema):
    amount_fen = fields.Integer(required=True)
    slow = fields.Boolean(load_default=False)


@pytest.fixture(scope="module")
def probe_app(app):
    probe = create_app({**TEST_CONFIG,
                        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    blp = Blueprint("idem_probe", __name__, url_prefix="/api/v1/idem-probe")

    @blp.route("/pay")
    class Pay(MethodView):
        @access(ANY_USER)
        @idempotent
        @blp.arguments(PayIn)
        @blp.response(201)
        def post(self, data):
            if data["slow"]:
                time.sleep(0.5)
            if data["amount_fen"] < 0:
                raise RuleViolation("金额不能为负", code="NEGATIVE_AMOUNT")
            if data["amount_fen"] == 500:
                raise RuntimeError("bank down")
            EXECUTIONS.append(data["amount_fen"])
            return {"paid_fen": data["amount_fen"], "n": len(EXECUTIONS)}

    probe.extensions["coop_api"].register_blueprint(blp)
    probe.test_client_class = IsolatedClient
    return probe


@pytest.fixture
def pclient(probe_app, db):
    EXECUTIONS.clear()
    return probe_app.test_client()


@pytest.fixture
def headers(make):
    return make.headers(make.user())


def post(client, headers, body, key="k-1"):
    return client.post("/api/v1/idem-probe/pay", json=body,
                       headers={**headers, "Idempotency-Key": key})


def test_replay_returns_first_response_without_executing_again(pclient, headers):
    first = post(pclient, headers, {"amount_fen": 100})
    second = post(pclient, headers, {"amount_fen": 100})
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert EXECUTIONS == [100]


def test_same_key_different_body_is_409(pclient, headers):
    post(pclient, headers, {"amount_fen": 100})
    response = post(pclient, headers, {"amount_fen": 200})
    assert response.status_code == 409
    assert response.get_json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert EXECUTIONS == [100]


def test_keys_are_per_user(pclient, headers, make):
    other = make.headers(make.user())
    post(pclient, headers, {"amount_fen": 100})
    assert post(pclient, other, {"amount_fen": 100}).headers.get("Idempotent-Replayed") is None
    assert EXECUTIONS == [100, 100]


def test_client_errors_are_replayed_too(pclient, headers):
    first = post(pclient, headers, {"amount_fen": -1})
    second = post(pclient, headers, {"amount_fen": -1})
    assert first.status_code == second.status_code == 422
    assert second.get_json()["code"] == "NEGATIVE_AMOUNT"
    assert second.mimetype == "application/problem+json"


def test_server_error_releases_the_key(pclient, headers, db):
    assert post(pclient, headers, {"amount_fen": 500}).status_code == 500
    assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0


def test_without_a_key_every_request_executes(pclient, headers):
    pclient.post("/api/v1/idem-probe/pay", json={"amount_fen": 1}, headers=headers)
    pclient.post("/api/v1/idem-probe/pay", json={"amount_fen": 1}, headers=headers)
    assert EXECUTIONS == [1, 1]


def test_overlong_key_is_422(pclient, headers):
    assert post(pclient, headers, {"amount_fen": 1}, key="x" * 256).status_code == 422


def test_concurrent_duplicates_execute_once(probe_app, pclient, headers):
    results = []
    barrier = threading.Barrier(4)

    def go():
        client = probe_app.test_client()
        barrier.wait()
        results.append(post(client, headers, {"amount_fen": 7, "slow": True}, key="race"))

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert EXECUTIONS == [7], "the view ran exactly once"
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(201) >= 1
    assert all(s in (201, 409) for s in statuses)
    for r in results:
        if r.status_code == 409:
            assert r.get_json()["code"] == "STATE_CONFLICT"


def test_prune_removes_only_old_keys(pclient, headers, db):
    post(pclient, headers, {"amount_fen": 1}, key="old")
    post(pclient, headers, {"amount_fen": 1}, key="new")
    old = db.session.execute(select(IdempotencyRecord).where(IdempotencyRecord.key == "old")
                             ).scalar_one()
    old.created_at = utcnow() - timedelta(hours=49)
    db.session.commit()
    assert prune(_db.session, timedelta(hours=48)) == 1
    keys = db.session.execute(select(IdempotencyRecord.key)).scalars().all()
    assert keys == ["new"]
