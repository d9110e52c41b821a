"""The audit trail: every write leaves a row in a SHA-256 hash chain (CONTRACT §9).

Services call `record(...)` inside their transaction. The rows are not written then:
they are queued on the session and chained in `before_commit`, after every business
row of the transaction has been written. Chaining takes a lock on the single
`audit_head` row (an UPDATE, so it is a row lock on MySQL and the write lock on SQLite),
so concurrent writers append one after another and the chain never forks; taking it
last keeps the lock short and the lock order the same in every transaction.

`verify()` recomputes the chain and names the first row that was edited, deleted or
moved.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable

import click
from flask import Blueprint, g, has_request_context
from flask.cli import with_appcontext
from sqlalchemy import BigInteger, Integer, String, Text, bindparam, event, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, scoped_session

from coop.dbtypes import UTCDateTime, intpk, utcnow
from coop.extensions import db

GENESIS = "0" * 64
_PENDING = "audit_pending"

# Every write passes through record(): a higher layer that reacts to changes (the
# notifications' outbox) plugs a listener in here, by name, through create_app's
# _connect_layers. Each is called as listener(session, actor, action, object_type,
# object_id, before, after) inside the change's own transaction, so whatever it writes
# commits or rolls back with the change.
ON_RECORD: dict[str, Callable[..., None]] = {}


class AuditEntry(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[intpk]
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    object_type: Mapped[str] = mapped_column(String(64), nullable=False)
    object_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)

    __table_args__ = (db.Index("ix_audit_log_object", "object_type", "object_id"),)


class AuditHead(db.Model):
    """One row: the last sequence number and hash. Its row lock serializes appends."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, default=GENESIS)


@event.listens_for(AuditHead.__table__, "after_create")
def _insert_head(target, connection, **kw):
    # Created with the table, so two first-ever writers never race to insert it.
    connection.execute(target.insert().values(id=1, seq=0, hash=GENESIS))


def _default(value: Any):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot audit a {type(value).__name__}")


def canonical(value: Any) -> str | None:
    """Stable JSON text: sorted keys, no spaces, UTF-8 kept (Chinese stays readable)."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_default)


def entry_hash(prev_hash: str, *, seq: int, at: datetime, actor_id, action: str,
               object_type: str, object_id, before: str | None, after: str | None,
               request_id: str | None) -> str:
    """SHA-256 over the previous hash and a canonical serialization of the row."""
    payload = canonical({
        "seq": seq, "at": at.isoformat(), "actor_id": actor_id, "action": action,
        "object_type": object_type, "object_id": object_id, "before": before,
        "after": after, "request_id": request_id,
    })
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


@dataclass
class _Pending:
    actor_id: int | None
    action: str
    object_type: str
    object_id: str | None
    before: str | None
    after: str | None
    request_id: str | None


def record(session: Session, actor, action: str, object_type: str, object_id=None, *,
           before: dict | None = None, after: dict | None = None) -> None:
    """Queue an audit row for this transaction; it is chained when the session commits.

    `actor` is a user object (anything with `.id`), a user id, or None for the system.
    `before`/`after` are JSON-able dicts of the object's state.
    """
    session = session.registry() if isinstance(session, scoped_session) else session
    if not session.in_transaction():
        # Tie the queued row to a transaction, so a rollback before any SQL drops it too.
        session.begin()
    actor_id = getattr(actor, "id", actor)
    request_id = g.get("request_id") if has_request_context() else None
    session.info.setdefault(_PENDING, []).append(_Pending(
        actor_id=actor_id, action=action, object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=canonical(before), after=canonical(after), request_id=request_id,
    ))
    for listener in ON_RECORD.values():
        listener(session, actor, action, object_type, object_id, before, after)


def _ensure_head(session: Session) -> None:
    if session.get(AuditHead, 1) is None:
        session.add(AuditHead(id=1, seq=0, hash=GENESIS))
        session.flush()


def _append_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.flush()  # business rows first, so the head lock is the last lock taken
    # Plain Core statements: this runs in every write's commit (a county run: 151 times).
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        # SQLite ignores FOR UPDATE: a no-op UPDATE takes the database's write lock first,
        # so no other writer can read the same head between our read and our write.
        conn.execute(_TAKE_HEAD_LOCK)
    row = conn.execute(_READ_HEAD).first()
    if row is None:
        _ensure_head(session)
        row = conn.execute(_READ_HEAD).first()
    seq, prev = row.seq, row.hash
    rows = []
    for item in pending:
        seq += 1
        at = utcnow()
        digest = entry_hash(prev, seq=seq, at=at, actor_id=item.actor_id, action=item.action,
                            object_type=item.object_type, object_id=item.object_id,
                            before=item.before, after=item.after, request_id=item.request_id)
        rows.append(dict(seq=seq, at=at, actor_id=item.actor_id, action=item.action,
                         object_type=item.object_type, object_id=item.object_id,
                         before=item.before, after=item.after, request_id=item.request_id,
                         prev_hash=prev, hash=digest))
        prev = digest
    conn.execute(_INSERT_ENTRIES, rows)
    conn.execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": prev})


# Built once: a statement built per call costs more to build than to run.
_HEAD = AuditHead.__table__
_TAKE_HEAD_LOCK = update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq)
_READ_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1).with_for_update()
_MOVE_HEAD = (update(_HEAD).where(_HEAD.c.id == 1)
              .values(seq=bindparam("new_seq"), hash=bindparam("new_hash")))
_INSERT_ENTRIES = AuditEntry.__table__.insert()


@event.listens_for(Session, "before_commit")
def _chain_on_commit(session: Session) -> None:
    if session.info.get(_PENDING):
        _append_pending(session)


@event.listens_for(Session, "after_soft_rollback")
def _drop_on_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction, not a savepoint
        session.info.pop(_PENDING, None)


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    bad_seq: int | None = None
    reason: str | None = None


def verify(session: Session, batch: int = 5000) -> VerifyResult:
    """Recompute the chain in sequence order; report the first row that does not fit."""
    prev, expected_seq, checked, last_id = GENESIS, 1, 0, 0
    while True:
        rows = session.execute(select(AuditEntry).where(AuditEntry.id > last_id)
                               .order_by(AuditEntry.id).limit(batch)).scalars().all()
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                reason = "deleted or reordered: expected sequence %d here" % expected_seq
                return VerifyResult(False, checked, row.seq, reason)
            if row.prev_hash != prev:
                return VerifyResult(False, checked, row.seq,
                                    "chain broken: previous hash does not match")
            digest = entry_hash(prev, seq=row.seq, at=row.at, actor_id=row.actor_id,
                                action=row.action, object_type=row.object_type,
                                object_id=row.object_id, before=row.before, after=row.after,
                                request_id=row.request_id)
            if digest != row.hash:
                return VerifyResult(False, checked, row.seq, "edited: hash does not match")
            prev, expected_seq, checked, last_id = row.hash, expected_seq + 1, checked + 1, row.id
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != checked or head.hash != prev):
        return VerifyResult(False, checked, checked + 1,
                            "deleted: rows after sequence %d are missing" % checked)
    return VerifyResult(True, checked)


def entry_to_dict(entry: AuditEntry) -> dict:
    return {
        "id": entry.id, "seq": entry.seq, "at": entry.at.isoformat(), "actor_id": entry.actor_id,
        "action": entry.action, "object_type": entry.object_type, "object_id": entry.object_id,
        "before": json.loads(entry.before) if entry.before else None,
        "after": json.loads(entry.after) if entry.after else None,
        "request_id": entry.request_id,
    }


cli = Blueprint("audit_cli", __name__, cli_group="audit")


@cli.cli.command("verify")
@with_appcontext
def verify_command():
    """Recompute the audit hash chain; exit 1 and name the first bad row."""
    result = verify(db.session)
    if result.ok:
        click.echo(f"audit chain ok: {result.checked} rows")
        return
    click.echo(f"audit chain BROKEN at seq {result.bad_seq}: {result.reason} "
               f"({result.checked} rows verified before it)", err=True)
    raise SystemExit(1)
