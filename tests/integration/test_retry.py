"""Retry at the one transaction boundary (issue 23.2, coop/transaction.py).

A transaction the database refuses for a conflict (MySQL 1213: a deadlock, or a Galera
certification failure, at any statement or at COMMIT) is run again as a whole; one that
keeps losing answers 409 STATE_CONFLICT; a node that cannot serve (a wsrep error such as
1047) answers 503 — never 500.

The refusals are injected by the engine's own events (`Refusal`), so these tests run on
both databases; the real deadlock between two requests needs row locks, so it runs on
MariaDB (TEST_DATABASE_URL).
"""
from __future__ import annotations

import io
import logging
import threading

import pymysql
import pytest
from flask import Response, request, stream_with_context
from flask.testing import FlaskClient
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import OperationalError

from auth.policy import ANY_USER, access
from coop import create_app
from coop.attachments.models import Attachment
from coop.audit import AuditEntry
from coop.county.models import Program, SubsidyApplication
from coop.extensions import db as _db
from coop.logs import RequestIdFilter
from coop.notifications.models import Notification
from coop.transaction import ATTEMPTS, current_run
from tests.conftest import TEST_CONFIG, IsolatedClient, is_mysql
from tests.county.conftest import world  # noqa: F401 (fixture)
from tests.county.test_evaluations import make_program
from tests.county.test_subsidies import apply

DEADLOCK = (1213, "Deadlock found when trying to get lock; try restarting transaction")
WSREP_NOT_READY = (1047, "WSREP has not yet prepared node for application use")
APPROVE = "UPDATE subsidy_applications"


class Refusal:
    """The database refusing transactions as a Galera node does: `error` raised at the
    first statement containing `statement`, or at the COMMIT of a transaction that ran a
    statement containing `commit_after`; `times` times, then the database behaves."""

    def __init__(self, engine, error, *, statement=None, commit_after=None, times=1):
        self.engine, self.error, self.times = engine, error, times
        self.statement, self.commit_after = statement, commit_after
        self.fired = 0
        self._armed = False

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "commit", self._commit)
        event.listen(self.engine, "rollback", self._rollback)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "commit", self._commit)
        event.remove(self.engine, "rollback", self._rollback)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        if self.fired >= self.times:
            return
        if self.statement and statement.lstrip().startswith(self.statement):
            self._fire(statement)
        if self.commit_after and statement.lstrip().startswith(self.commit_after):
            self._armed = True

    def _commit(self, conn):
        if self._armed and self.fired < self.times:
            self._armed = False
            self._fire("COMMIT")

    def _rollback(self, conn):
        self._armed = False

    def _fire(self, statement):
        self.fired += 1
        raise OperationalError(statement, None, pymysql.err.OperationalError(*self.error))


@pytest.fixture
def engine(app):
    with app.app_context():
        return _db.engine


@pytest.fixture
def retries(caplog):
    """The retry log lines, with the request id the app's handler would add."""
    caplog.set_level(logging.WARNING, logger="coop.transaction")
    caplog.handler.addFilter(RequestIdFilter())
    return lambda: [r for r in caplog.records if r.name == "coop.transaction"]


def submitted(client, world, amount_fen=40_000, budget_fen=1_000_000):  # noqa: F811
    program = make_program(client, world, budget_fen=budget_fen)
    response = apply(client, world, program["id"], amount_fen)
    assert response.status_code == 201, response.get_json()
    return program["id"], response.get_json()["id"]


def approve(client, world, app_id, key=None, json=None):  # noqa: F811
    headers = dict(world.finance1[1])
    if key:
        headers["Idempotency-Key"] = key
    return client.post(f"/api/v1/subsidy-applications/{app_id}/approve", headers=headers,
                       json=json)


def written(db, app_id):
    """What the approval wrote: (status, committed fen, audit rows, outbox rows)."""
    db.session.expire_all()
    application = db.session.get(SubsidyApplication, app_id)
    audits = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "subsidy_application.approve",
        AuditEntry.object_id == str(app_id)))
    notes = db.session.execute(
        select(Notification.kind, func.count()).where(
            Notification.object_type == "subsidy_application",
            Notification.object_id == app_id,
            Notification.kind.in_(("application_approved", "disbursement_to_make")))
        .group_by(Notification.kind)).all()
    committed = db.session.get(Program, application.program_id).committed_fen
    return application.status, committed, audits, dict(notes)


def audit_verifies(runner):
    result = runner.invoke(args=["audit", "verify"])
    return result.exit_code == 0, result.output


@pytest.mark.parametrize("where", [dict(statement=APPROVE), dict(commit_after=APPROVE)],
                         ids=["at-a-statement", "at-commit"])
def test_a_lost_conflict_is_run_again_and_written_once(client, world, db, engine, runner,  # noqa: F811
                                                       retries, where):
    _, app_id = submitted(client, world)
    with Refusal(engine, DEADLOCK, **where) as refusal:
        response = approve(client, world, app_id)
    assert refusal.fired == 1
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "approved"
    # One approval, one budget reservation, one audit row, one notification per recipient
    # (the cooperative's manager; the other finance user), whatever the failed try queued.
    assert written(db, app_id) == ("approved", 40_000, 1,
                                   {"application_approved": 1, "disbursement_to_make": 1})
    assert audit_verifies(runner)[0]
    [line] = retries()
    assert line.attempt == 1 and line.db_error == 1213
    assert line.request_id and line.request_id == response.headers["X-Request-ID"]
    assert "subsidy" not in line.getMessage() and "40000" not in line.getMessage()


def test_a_request_that_keeps_losing_is_409_and_writes_nothing(client, world, db, engine,  # noqa: F811
                                                               runner, retries):
    _, app_id = submitted(client, world)
    with Refusal(engine, DEADLOCK, commit_after=APPROVE, times=99) as refusal:
        response = approve(client, world, app_id)
    assert refusal.fired == ATTEMPTS
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "STATE_CONFLICT" and body["status"] == 409
    assert "冲突" in body["detail"] and body["request_id"] == response.headers["X-Request-ID"]
    assert written(db, app_id) == ("submitted", 0, 0, {})
    assert audit_verifies(runner)[0]
    assert [r.attempt for r in retries()] == list(range(1, ATTEMPTS + 1))


def test_an_idempotent_money_post_retried_answers_once_and_replays(client, world, db,  # noqa: F811
                                                                    engine):
    _, app_id = submitted(client, world)
    part = {"amount_fen": 30_000}      # the JSON body is read again by the second attempt
    with Refusal(engine, DEADLOCK, commit_after=APPROVE) as refusal:
        first = approve(client, world, app_id, key="approve-1", json=part)
    assert refusal.fired == 1
    assert first.status_code == 200, first.get_json()
    again = approve(client, world, app_id, key="approve-1", json=part)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert written(db, app_id)[:3] == ("approved", 30_000, 1)


def test_a_key_whose_request_kept_losing_is_free_for_the_clients_retry(client, world, db,  # noqa: F811
                                                                       engine):
    _, app_id = submitted(client, world)
    with Refusal(engine, DEADLOCK, commit_after=APPROVE, times=99):
        lost = approve(client, world, app_id, key="approve-2")
    assert lost.status_code == 409 and lost.get_json()["code"] == "STATE_CONFLICT"
    # Not "in progress" for the lease's two minutes, not the 409 replayed: it runs.
    retried = approve(client, world, app_id, key="approve-2")
    assert retried.status_code == 200, retried.get_json()
    assert "Idempotent-Replayed" not in retried.headers
    assert written(db, app_id)[:3] == ("approved", 40_000, 1)


def test_a_wsrep_error_is_503_not_retried_not_500(client, world, db, engine, retries):  # noqa: F811
    _, app_id = submitted(client, world)
    with Refusal(engine, WSREP_NOT_READY, statement=APPROVE, times=99) as refusal:
        response = approve(client, world, app_id)
    assert refusal.fired == 1          # the same node would refuse again: no retry
    assert response.status_code == 503
    body = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert body["code"] == "SERVICE_UNAVAILABLE" and "数据库" in body["detail"]
    assert response.headers["Retry-After"] == "1"
    assert written(db, app_id)[:3] == ("submitted", 0, 0)
    assert retries() == []


def test_a_multipart_upload_retried_still_stores_the_file(app, client, world, db, engine,  # noqa: F811
                                                          tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path / "attachments"))
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    form = {"file": (io.BytesIO(pdf), "成员大会会议记录.pdf"), "object_type": "cooperative",
            "object_id": str(world.coop.id), "kind": "assembly_minutes"}
    with Refusal(engine, DEADLOCK, commit_after="INSERT INTO attachments") as refusal:
        response = client.post("/api/v1/attachments", headers=world.manager[1], data=form,
                               content_type="multipart/form-data")
    assert refusal.fired == 1
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["size"] == len(pdf)
    assert len(db.session.scalars(select(Attachment)).all()) == 1
    content = client.get(f"/api/v1/attachments/{body['id']}/content",
                         headers=world.manager[1])
    assert content.status_code == 200 and content.data == pdf


def test_a_console_form_retried_redirects_once_with_its_message(app, client, world, db,  # noqa: F811
                                                                engine):
    from auth.passwords import hash_password
    from tests.console.conftest import PASSWORD, as_user, post_form
    world.finance1[0].password_hash = hash_password(PASSWORD)
    db.session.commit()
    _, app_id = submitted(client, world)
    finance = as_user(app, world.finance1[0])
    page = f"/console/subsidy-applications/{app_id}"
    with Refusal(engine, DEADLOCK, commit_after=APPROVE) as refusal:
        response = post_form(finance, page, f"{page}/approve")
    assert refusal.fired == 1
    assert response.status_code == 303 and response.headers["Location"] == page
    shown = finance.get(page).get_data(as_text=True)
    assert shown.count("已批准，预算已占用") == 1
    assert written(db, app_id)[:3] == ("approved", 40_000, 1)


def test_a_console_form_that_keeps_losing_is_a_409_page(app, client, world, db, engine):  # noqa: F811
    from auth.passwords import hash_password
    from tests.console.conftest import PASSWORD, as_user, post_form
    world.finance1[0].password_hash = hash_password(PASSWORD)
    db.session.commit()
    _, app_id = submitted(client, world)
    finance = as_user(app, world.finance1[0])
    page = f"/console/subsidy-applications/{app_id}"
    with Refusal(engine, DEADLOCK, commit_after=APPROVE, times=99):
        response = post_form(finance, page, f"{page}/approve")
    assert response.status_code == 409
    assert "STATE_CONFLICT" in response.get_data(as_text=True)
    assert written(db, app_id)[:3] == ("submitted", 0, 0)


# A probe app: a streamed answer, and two requests that lock two rows in opposite orders.

BARRIER: list[threading.Barrier] = []


@pytest.fixture(scope="module")
def probe_app(app):
    probe = create_app({**TEST_CONFIG,
                        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    blp = Blueprint("retry_probe", __name__, url_prefix="/api/v1/retry-probe")

    @blp.route("/bump")
    class Bump(MethodView):
        @access(ANY_USER)
        @blp.response(200)
        def post(self):
            """Add 1 to two programs' budgets, in the order given."""
            ids = [int(i) for i in request.args["ids"].split(",")]
            for n, program_id in enumerate(ids):
                _db.session.execute(update(Program).where(Program.id == program_id)
                                    .values(budget_fen=Program.budget_fen + 1))
                if n == 0 and current_run().number == 1:
                    BARRIER[0].wait(timeout=20)   # both hold their first row's lock
            return {"attempt": current_run().number}

    @blp.route("/stream", methods=["POST"])
    @access(ANY_USER)
    def stream():
        """Add 1 to a program's budget; answer a streamed CSV that reads the request."""
        _db.session.execute(update(Program).where(Program.id == int(request.args["id"]))
                            .values(budget_fen=Program.budget_fen + 1))

        def rows():
            for n in range(3):
                yield f"{n},{request.args['id']}\n"

        return Response(stream_with_context(rows()), mimetype="text/csv")

    probe.extensions["coop_api"].register_blueprint(blp)
    probe.test_client_class = IsolatedClient
    return probe


def test_a_streamed_response_retried_streams_once(probe_app, client, world, db):  # noqa: F811
    program_id = make_program(client, world, budget_fen=1_000)["id"]
    # Flask's own client: the isolated one runs the request in a context of its own, where
    # stream_with_context's request context could not be popped while the body is read.
    streaming = FlaskClient(probe_app, probe_app.response_class)
    with probe_app.app_context():
        probe_engine = _db.engine
    with Refusal(probe_engine, DEADLOCK, commit_after="UPDATE programs") as refusal:
        response = streaming.post(f"/api/v1/retry-probe/stream?id={program_id}",
                                  headers=world.finance1[1])
        body = response.get_data(as_text=True)
    assert refusal.fired == 1
    assert response.status_code == 200
    assert body == "".join(f"{n},{program_id}\n" for n in range(3))
    db.session.expire_all()
    assert db.session.get(Program, program_id).budget_fen == 1_001


@pytest.mark.skipif(not is_mysql(), reason="row locks: SQLite has one database lock, "
                                           "a second writer waits and never deadlocks")
def test_a_real_deadlock_between_two_requests_ends_in_two_200s(probe_app, client, world,  # noqa: F811
                                                               db, retries):
    a = make_program(client, world, budget_fen=1_000)["id"]
    b = make_program(client, world, budget_fen=2_000, year=2025)["id"]
    BARRIER[:] = [threading.Barrier(2)]
    results: list = [None, None]

    def bump(index, order):
        response = probe_app.test_client().post(f"/api/v1/retry-probe/bump?ids={order}",
                                               headers=world.finance1[1])
        results[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=bump, args=(0, f"{a},{b}")),
               threading.Thread(target=bump, args=(1, f"{b},{a}"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [status for status, _ in results] == [200, 200], results
    # One of them was the server's deadlock victim and won on its second attempt.
    assert sorted(body["attempt"] for _, body in results) == [1, 2]
    assert [(r.attempt, r.db_error) for r in retries()] == [(1, 1213)]
    db.session.expire_all()
    assert db.session.get(Program, a).budget_fen == 1_002
    assert db.session.get(Program, b).budget_fen == 2_002


@pytest.mark.parametrize("error, code", [(DEADLOCK, "STATE_CONFLICT"),
                                         (WSREP_NOT_READY, "SERVICE_UNAVAILABLE")])
def test_a_cli_write_the_database_refuses_is_one_line_not_a_traceback(runner, db, engine,
                                                                      error, code):
    from coop.places.models import County
    with Refusal(engine, error, commit_after="INSERT INTO counties") as refusal:
        result = runner.invoke(args=["counties", "create", "--name", "郓城县",
                                     "--code", "371725"])
    assert refusal.fired == 1          # a command at a terminal is not retried: run it again
    assert result.exit_code == 1 and code in result.output, result.output
    assert "Traceback" not in result.output and "INSERT" not in result.output
    assert db.session.execute(select(County).where(County.code == "371725")).first() is None
    assert runner.invoke(args=["counties", "create", "--name", "郓城县",
                               "--code", "371725"]).exit_code == 0
