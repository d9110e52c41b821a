"""The audit chain detects edits, deletions and reordering, and survives concurrent writers."""
from __future__ import annotations

import threading

from sqlalchemy import select, text

from coop.audit import AuditEntry, record, verify


def _write(db, n=5):
    for i in range(n):
        record(db.session, None, "thing.update", "thing", i, before={"v": i}, after={"v": i + 1,
               "名字": "张三"})
        db.session.commit()


def test_untouched_chain_verifies(db):
    _write(db)
    result = verify(db.session)
    assert result.ok and result.checked == 5


def test_rollback_writes_no_audit_row(db):
    record(db.session, None, "thing.update", "thing", 1, after={"v": 1})
    db.session.rollback()
    db.session.commit()
    assert db.session.execute(select(AuditEntry)).first() is None


def test_edited_row_is_named(db):
    _write(db)
    db.session.execute(text("UPDATE audit_log SET after = :a WHERE seq = 3"),
                       {"a": '{"v":999}'})
    db.session.commit()
    result = verify(db.session)
    assert not result.ok and result.bad_seq == 3 and "edited" in result.reason


def test_deleted_middle_row_is_named(db):
    _write(db)
    db.session.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    db.session.commit()
    result = verify(db.session)
    assert not result.ok and result.bad_seq == 3 and "deleted" in result.reason


def test_deleted_last_row_is_detected(db):
    _write(db)
    db.session.execute(text("DELETE FROM audit_log WHERE seq = 5"))
    db.session.commit()
    result = verify(db.session)
    assert not result.ok and result.bad_seq == 5


def test_reordered_rows_are_detected(db):
    _write(db)
    # Swap the contents of rows 2 and 3 (keeping ids), as a forger reordering events would.
    rows = {r.seq: r for r in db.session.execute(select(AuditEntry)).scalars()}
    a, b = rows[2], rows[3]
    fields = ("seq", "at", "action", "object_id", "before", "after", "prev_hash", "hash")
    values_a = {f: getattr(a, f) for f in fields}
    values_b = {f: getattr(b, f) for f in fields}
    db.session.execute(text("UPDATE audit_log SET seq = -1 WHERE id = :id"), {"id": a.id})
    db.session.flush()
    for f in fields:
        setattr(b, f, values_a[f])
    db.session.flush()
    for f in fields:
        setattr(a, f, values_b[f])
    db.session.commit()
    result = verify(db.session)
    assert not result.ok and result.bad_seq in (2, 3)


def test_cli_verify_exits_non_zero_on_tampering(db, runner):
    _write(db)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    db.session.execute(text("UPDATE audit_log SET actor_id = 7 WHERE seq = 4"))
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "seq 4" in result.output


def test_concurrent_writers_keep_one_chain(app, db):
    errors = []

    def writer(k):
        try:
            with app.app_context():
                for i in range(10):
                    record(db.session, k, "thing.update", "thing", f"{k}-{i}", after={"i": i})
                    db.session.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    result = verify(db.session)
    assert result.ok and result.checked == 60
