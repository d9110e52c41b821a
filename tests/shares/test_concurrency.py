"""Concurrent approvals keep the register numbered 1..n without gaps or duplicates.

Each thread has its own app context, hence its own session and connection, as
concurrent requests do. Runs on SQLite (a file database) and on MariaDB.
"""
from __future__ import annotations

import threading
from types import SimpleNamespace

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from coop.shares import services
from coop.transaction import unit_of_work
from coop.shares.models import ShareLine, ShareOperation, ShareRegisterHead
from tests.conftest import cluster_urls, is_mysql
from tests.shares.conftest import FOUNDED

THREADS = 8


def approve_concurrently(app, db, manager_id: int, op_ids: list[int]) -> list[str]:
    """Approve every operation from THREADS threads started together; returns the
    lock errors met (the caller of the API would get 409 and retry)."""
    db.session.commit()
    barrier = threading.Barrier(THREADS)
    lock_errors: list[str] = []
    actor = SimpleNamespace(id=manager_id)

    def worker(ids):
        with app.app_context():
            session = db.session
            barrier.wait()
            for op_id in ids:
                while True:
                    try:
                        with unit_of_work(session):
                            services.approve_operation(session, actor,
                                                       session.get(ShareOperation, op_id))
                        break
                    except OperationalError as exc:   # SQLite busy: retry like a client
                        lock_errors.append(str(exc.orig))
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(op_ids[i::THREADS],))
               for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return lock_errors


def assert_queued(errors: list[str]) -> None:
    """On one MariaDB server row locks queue the approvals: nobody fails. On a Galera
    cluster (tests/conftest.py cluster mode) the threads' connections are on different
    nodes, whose row locks do not see each other: a conflict surfaces at commit as a
    certification failure (1213), rolled back whole, which the request path runs again
    (coop/transaction.py) — so that and nothing else may appear; the register must still
    come out gapless."""
    if cluster_urls():
        assert all(error.startswith("(1213,") for error in errors), errors
    elif is_mysql():
        assert errors == []


def assert_gapless(db, coop_id: int, expected_lines: int) -> None:
    db.session.expire_all()
    numbers = db.session.execute(select(ShareLine.line_no).where(
        ShareLine.cooperative_id == coop_id).order_by(ShareLine.line_no)).scalars().all()
    assert numbers == list(range(1, expected_lines + 1))
    assert db.session.get(ShareRegisterHead, coop_id).last_line_no == expected_lines


def test_concurrent_approvals_number_lines_without_gaps(app, db, ledger):
    # A base register the cap never bites on: the collective (exempt) holds most of it.
    collective = ledger.member(member_type="collective")
    ledger.done("subscribe", collective, "collective_asset", amount_fen=10_000_000)
    farmers = [ledger.member() for _ in range(8)]
    for farmer in farmers:
        ledger.done("subscribe", farmer, amount_fen=100_000)
    ops = [ledger.submit("subscribe", farmers[i % 8], amount_fen=1_000 + i) for i in range(24)]
    ops += [ledger.submit("transfer", farmers[i], to=farmers[(i + 1) % 8], amount_fen=500)
            for i in range(8)]
    errors = approve_concurrently(app, db, ledger.manager.id, [op.id for op in ops])
    assert_queued(errors)
    statuses = db.session.execute(select(ShareOperation.status, func.count())
                                  .group_by(ShareOperation.status)).all()
    assert dict(statuses) == {"approved": 1 + 8 + 32}
    assert_gapless(db, ledger.coop.id, 1 + 8 + 24 + 2 * 8)


def test_first_approvals_race_to_create_the_register_head(app, db, ledger):
    farmers = [ledger.member() for _ in range(THREADS)]
    ops = [ledger.submit("subscribe", farmer, amount_fen=100_000, on=FOUNDED)
           for farmer in farmers]
    assert db.session.get(ShareRegisterHead, ledger.coop.id) is None
    errors = approve_concurrently(app, db, ledger.manager.id, [op.id for op in ops])
    assert_queued(errors)
    assert_gapless(db, ledger.coop.id, THREADS)
