"""Crash tests: a real gunicorn (or the CLI) is killed with SIGKILL in the middle of money
work, at the point where everything is written and nothing committed. Afterwards nothing
of the request is in the database, the same request with its Idempotency-Key gives the
right answer, and a half-written report never stands under its final name. SQLite (its
hot journal) and MariaDB (the server's rollback of a dropped connection) alike."""
from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, insert, select

import coop.backup as backup
from coop.county.models import Program, RewardRound
from coop.distribution.models import AnnualAccount, Trade
from coop.extensions import db
from coop.payouts.models import PayoutBatch, PayoutLine
from coop.registry.models import Member
from coop.seed import benchmark_member_rows
from coop.shares.ledger import rebuild_balances
from coop.shares.models import ShareLine, ShareOperation, ShareRegisterHead
from tests.county.test_rewards import create_round, seed_worked_example
from tests.distribution.builders import approved_plan
from tests.factories import Factory
from tests.ops.databases import app_on, dispose, fresh_database
from tests.ops.seeding import county_world

ROOT = Path(__file__).resolve().parents[2]
WAIT = 60            # seconds: the longest any step may take before the test fails
MEMBERS = 5_000      # the payout batch's lines
# Written by the killed request itself, and nothing else: its Idempotency-Key claim.
CLAIMS = "idempotency_keys"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _until(check, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Server:
    """gunicorn, one sync worker, on a free port; the worker can be paused and killed."""

    def __init__(self, url: str, folder: Path):
        self.arm = folder / "arm.json"
        self.reached = folder / "arm.json.reached"
        self.env = {**os.environ, "CRASH_DATABASE_URL": url, "CRASH_ARM_FILE": str(self.arm),
                    "GUNICORN_WORKERS": "1", "GUNICORN_TIMEOUT": "300",
                    "GUNICORN_ACCESS_LOG": "/dev/null", "PYTHONPATH": str(ROOT)}
        self.base = f"http://127.0.0.1:{_free_port()}"
        self.log_path = folder / "gunicorn.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
             "--bind", self.base.removeprefix("http://"), "tests.ops.crashapp:app"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.wait_healthy()

    def healthy(self) -> bool:
        if self.proc.poll() is not None:
            self.log.flush()
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise AssertionError(f"gunicorn exited with {self.proc.returncode}:\n{tail}")
        try:
            return requests.get(f"{self.base}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def wait_healthy(self) -> None:
        _until(self.healthy, "the server to answer")

    def crash_during(self, method: str, path: str, *, match: str, when: str, nth: int = 1,
                     **kwargs) -> None:
        """Send the request, let it run until the nth statement starting with `match`,
        and kill -9 the worker there. The request never gets an answer."""
        self.reached.unlink(missing_ok=True)
        self.arm.write_text(json.dumps({"token": uuid.uuid4().hex, "match": match,
                                        "nth": nth, "when": when}))
        outcome = {}

        def send():
            try:
                outcome["response"] = requests.request(method, self.base + path,
                                                       timeout=WAIT, **kwargs)
            except requests.RequestException as exc:
                outcome["error"] = exc

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        try:
            pid = int(_until(lambda: self.reached.exists() and self.reached.read_text(),
                             f"the request to reach {when} {match!r}"))
        finally:
            self.arm.unlink(missing_ok=True)
        os.kill(pid, signal.SIGKILL)
        sender.join(WAIT)
        assert "error" in outcome, f"the request was answered: {outcome.get('response')}"
        self.reached.unlink(missing_ok=True)
        self.wait_healthy()    # gunicorn's master has started a fresh worker

    def send(self, method: str, path: str, **kwargs):
        return requests.request(method, self.base + path, timeout=WAIT, **kwargs)

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        finally:
            self.log.close()


@pytest.fixture(scope="module")
def crash_db(app, tmp_path_factory):
    folder = tmp_path_factory.mktemp("crash")
    with fresh_database(app.config["SQLALCHEMY_DATABASE_URI"], folder, "crash") as url:
        local = app_on(url)
        with local.app_context():
            db.create_all()
            db.session.remove()
        yield local, url, folder
        dispose(local)


@pytest.fixture(scope="module")
def server(crash_db):
    _, url, folder = crash_db
    running = Server(url, folder)
    yield running
    running.stop()


@pytest.fixture
def local(crash_db):
    """The test's own app context on the server's database, with factories."""
    app = crash_db[0]
    with app.app_context():
        yield app, Factory(db.session)
        db.session.remove()


def state(exclude=(CLAIMS,)) -> dict:
    """Every table's row count and money totals, and the audit head, as committed now."""
    db.session.remove()
    found = backup.snapshot_of(db.engine)
    for table in exclude:
        found["tables"].pop(table)
    return found


def assert_retry_answers(server, method, path, key, headers, status, **kwargs):
    """The same request with the same key runs once more (the dead claim's lease is 1 s
    in crashapp), and after that replays its answer."""
    time.sleep(1.1)
    headers = {**headers, "Idempotency-Key": key}
    first = server.send(method, path, headers=headers, **kwargs)
    assert first.status_code == status, first.text
    again = server.send(method, path, headers=headers, **kwargs)
    assert again.status_code == status and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    return first.json()


def test_killed_while_approving_a_share_operation(server, local):
    app, make = local
    coop = make.cooperative()
    member = make.member(coop)
    _, h = make.login("coop_manager", coop)
    op = app.test_client().post(f"/api/v1/cooperatives/{coop.id}/share-operations", json={
        "type": "subscribe", "member_id": member.id, "kind": "cash", "amount_fen": 300_000,
        "effective_on": "2024-03-01"}, headers=h).get_json()
    before = state()
    server.crash_during("POST", f"/api/v1/share-operations/{op['id']}/approve",
                        match="INSERT INTO SHARE_LINES", when="after",
                        headers={**h, "Idempotency-Key": "approve-1"})
    assert state() == before
    body = assert_retry_answers(server, "POST", f"/api/v1/share-operations/{op['id']}/approve",
                                "approve-1", h, 200)
    assert body["status"] == "approved"
    assert [line["delta_fen"] for line in body["lines"]] == [300_000]


def _cooperative_of(make, members: int):
    """A cooperative of `members` members (the first its village collective) with capital,
    trades and the year's account: rows as the register and the year's entry leave them."""
    coop = make.cooperative()
    session = db.session
    rng = random.Random(24)
    session.execute(insert(Member), benchmark_member_rows(
        coop.county_id, coop.id, "371722", members, coop.id * 10_000, rng))
    ids = session.scalars(select(Member.id).where(Member.cooperative_id == coop.id)
                          .order_by(Member.id)).all()
    op = ShareOperation(county_id=coop.county_id, cooperative_id=coop.id, member_id=ids[0],
                        type="subscribe", kind="cash", amount_fen=1,
                        effective_on=date(2020, 3, 1), status="approved")
    session.add(op)
    session.flush()
    session.execute(insert(ShareLine), [{
        "county_id": coop.county_id, "cooperative_id": coop.id, "line_no": n + 1,
        "member_id": m, "operation_id": op.id, "kind": "cash",
        "delta_fen": rng.randint(100_000, 5_000_000), "effective_on": date(2020, 3, 1)}
        for n, m in enumerate(ids)])
    session.add(ShareRegisterHead(cooperative_id=coop.id, last_line_no=len(ids)))
    session.flush()
    rebuild_balances(session, coop.id)
    session.execute(insert(Trade), [{
        "county_id": coop.county_id, "cooperative_id": coop.id, "member_id": m,
        "year": 2024, "amount_fen": rng.randint(1, 2_000_000),
        "occurred_on": date(2024, 6, 1)} for m in ids[1:]])
    session.add(AnnualAccount(county_id=coop.county_id, cooperative_id=coop.id, year=2024,
                              revenue_fen=members * 900_000, cost_fen=members * 500_000,
                              prior_loss_fen=0, wages_paid_fen=0, labour_days=0,
                              fiscal_subsidy_fen=0))
    session.commit()
    return coop


def batch_is_whole(batch_id: int) -> None:
    batch = db.session.get(PayoutBatch, batch_id)
    count, total = db.session.execute(
        select(func.count(), func.coalesce(func.sum(PayoutLine.amount_fen), 0))
        .where(PayoutLine.batch_id == batch_id)).one()
    assert (count, total) == (batch.line_count, batch.total_fen)


def test_killed_while_writing_a_payout_batch_of_5000_lines_then_its_results(server, local):
    app, make = local
    coop = _cooperative_of(make, MEMBERS)
    _, h = make.login("coop_manager", coop)
    client = app.test_client()
    plan = approved_plan(client, h, coop, 2024)
    path = f"/api/v1/distributions/{plan['id']}/payout-batch"

    before = state()
    server.crash_during("POST", path, match="INSERT INTO PAYOUT_LINES", when="after",
                        json={}, headers={**h, "Idempotency-Key": "batch-2024"})
    assert state() == before      # no batch, no line, the plan still approved
    assert db.session.scalar(select(func.count()).select_from(PayoutBatch)
                             .where(PayoutBatch.source_id == plan["id"])) == 0
    batch = assert_retry_answers(server, "POST", path, "batch-2024", h, 201, json={})
    assert batch["line_count"] == MEMBERS
    db.session.remove()
    batch_is_whole(batch["id"])

    lines = db.session.execute(select(PayoutLine.id).where(PayoutLine.batch_id == batch["id"])
                               .order_by(PayoutLine.id)).scalars().all()
    results = [{"line_id": line_id, "status": "paid", "bank_ref": f"BK{line_id}",
                "paid_on": date.today().isoformat()} for line_id in lines]
    path = f"/api/v1/payout-batches/{batch['id']}/results"
    before = state()
    server.crash_during("POST", path, match="INSERT INTO AUDIT_LOG", when="before",
                        json=results, headers={**h, "Idempotency-Key": "results-1"})
    assert state() == before      # every line still pending
    done = assert_retry_answers(server, "POST", path, "results-1", h, 200, json=results)
    assert done["status"] == "closed"
    db.session.remove()
    paid = db.session.execute(select(func.count(), func.sum(PayoutLine.amount_fen)).where(
        PayoutLine.batch_id == batch["id"], PayoutLine.status == "paid")).one()
    assert tuple(paid) == (MEMBERS, batch["total_fen"])


def test_killed_while_approving_a_reward_round(server, local):
    app, make = local
    client = app.test_client()
    world = county_world(make)
    world.manager = make.login("coop_manager", world.coop)
    program, _, _ = seed_worked_example(client, world, make, db)
    rnd = create_round(client, world).get_json()
    path = f"/api/v1/reward-rounds/{rnd['id']}/approve"
    before = state()
    server.crash_during("POST", path, match="INSERT INTO PAYOUT_LINES", when="after",
                        headers={**world.finance2[1], "Idempotency-Key": "round-2024"})
    assert state() == before      # still a draft, nothing committed from the program
    approved = assert_retry_answers(server, "POST", path, "round-2024", world.finance2[1], 200)
    assert approved["status"] == "approved"
    db.session.remove()
    batch_is_whole(approved["payout_batch_id"])
    round_ = db.session.get(RewardRound, rnd["id"])
    assert db.session.get(Program, program["id"]).committed_fen == round_.total_fen > 0


def test_a_report_killed_while_being_written_never_stands_under_its_final_name(
        server, local, crash_db, tmp_path):
    app, make = local
    coop = _cooperative_of(make, 400)
    _, h = make.login("coop_manager", coop)
    client = app.test_client()
    plan = approved_plan(client, h, coop, 2024)
    assert client.post(f"/api/v1/distributions/{plan['id']}/payout-batch", json={},
                       headers=h).status_code == 201
    out = tmp_path / "reports"
    command = [sys.executable, "-m", "tests.ops.crashapp", "reports", "payouts",
               "--county-id", str(coop.county_id), "--year", "2024", "--format", "csv",
               "--out", str(out)]
    cli = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env={**server.env, "CRASH_REPORT_PAUSE_LINES": "200"})
    try:
        pid = int(_until(lambda: server.reached.exists() and server.reached.read_text(),
                         "the report to be half written"))
        assert pid == cli.pid
        parts = list(out.glob(".*.part"))
        assert len(parts) == 1 and parts[0].stat().st_size > 0
        os.kill(pid, signal.SIGKILL)
        cli.wait(WAIT)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait(WAIT)
        server.reached.unlink(missing_ok=True)
    assert [p.name for p in out.iterdir() if not p.name.startswith(".")] == []
    again = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=WAIT,
                           env=server.env)
    assert again.returncode == 0, again.stderr.decode()
    written = Path(again.stdout.decode().strip())
    text = written.read_text(encoding="utf-8-sig")
    assert written.parent == out and text.count("\n") > 400
