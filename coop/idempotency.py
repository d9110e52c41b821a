"""Idempotency-Key for POST routes that move money (CONTRACT §0).

A key is stored per (user, key) together with a hash of method, path and body. The row
is inserted and committed in its own unit of work *before* the view runs, so the unique
constraint decides which of two concurrent requests executes: the loser sees the row and
answers 409 while the first is still running, or replays its response once it has
finished. The response is stored in the view's own unit of work, so it is committed
exactly when the view's writes are. A different body under the same key is 409
IDEMPOTENCY_KEY_REUSED. Server errors release the key so the client may retry; client
errors are kept and replayed like successes (the view's writes rolled back). A request
whose transaction the database refused for a conflict is run again by the app without
claiming again, and releases its key if it finally loses (coop/transaction.py).

A claim whose request died without an answer (a worker killed mid-request: kill -9, out
of memory, a lost machine) is never finished or released; once it is older than any
request can run (IDEMPOTENCY_LEASE_SECONDS, beyond gunicorn's 60 s worker timeout) the
key's next request takes it over and runs the view, whose own writes were rolled back
with the dead transaction.
"""
from __future__ import annotations

import functools
import hashlib
from datetime import datetime, timedelta

import click
from flask import Blueprint, current_app, g, request
from flask.cli import with_appcontext
from sqlalchemy import (BigInteger, Integer, String, Text, UniqueConstraint, delete, select,
                        update)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.exceptions import HTTPException

from coop.dbtypes import Ident, UTCDateTime, intpk, utcnow
from coop.errors import (PROBLEM_JSON, Conflict, DomainError, ValidationFailed,
                         is_retryable, problem_for_exception)
from coop.extensions import db
from coop.transaction import current_run, unit_of_work

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
IN_PROGRESS = "in_progress"
DONE = "done"
# Longer than any request may run: gunicorn kills a worker silent for 60 s (GUNICORN_TIMEOUT),
# plus 15 s for the app servers' clocks to disagree. Not much longer: a request cut off
# with its database node (a claim committed, the node gone before the answer) holds its
# key until then, and the client's retries answer 409 "in progress" meanwhile.
DEFAULT_LEASE_SECONDS = 75


class IdempotencyRecord(db.Model):
    __tablename__ = "idempotency_keys"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    key: Mapped[str] = mapped_column(Ident(255), nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow,
                                                 index=True)

    __table_args__ = (UniqueConstraint("user_id", "key"),)


def _request_hash() -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.get_data()):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _replay(record: IdempotencyRecord):
    # Every stored error body came from coop.errors, so the status decides the type.
    mimetype = PROBLEM_JSON if record.response_status >= 400 else "application/json"
    response = current_app.response_class(record.response_body or "",
                                          status=record.response_status, mimetype=mimetype)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _claim(user_id: int, key: str, request_hash: str):
    """Insert the key, or return the existing record (never executes the view twice)."""
    session = db.session
    try:
        with unit_of_work(session):
            session.add(IdempotencyRecord(user_id=user_id, key=key, request_hash=request_hash,
                                          state=IN_PROGRESS))
        return None
    except IntegrityError:
        pass
    existing = session.execute(
        select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id,
                                        IdempotencyRecord.key == key)
    ).scalar_one()
    return existing


def _take_over(record: IdempotencyRecord) -> bool:
    """Claim an unfinished key again if its request cannot still be running; of two
    retries racing for it, the one conditional UPDATE lets exactly one win."""
    lease = current_app.config.get("IDEMPOTENCY_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)
    now = utcnow()
    with unit_of_work():
        taken = db.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.id == record.id, IdempotencyRecord.state == IN_PROGRESS,
                   IdempotencyRecord.created_at < now - timedelta(seconds=lease))
            .values(created_at=now).execution_options(synchronize_session=False)).rowcount
    return taken == 1


def _store(user_id: int, key: str, response) -> None:
    session = db.session
    record = session.execute(
        select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id,
                                        IdempotencyRecord.key == key)
    ).scalar_one()
    record.state = DONE
    record.response_status = response.status_code
    record.response_body = response.get_data(as_text=True)


def _release(user_id: int, key: str) -> None:
    db.session.rollback()
    with unit_of_work():
        db.session.execute(delete(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key))


def _status_of(exc: Exception) -> int:
    if isinstance(exc, DomainError):
        return exc.status
    if isinstance(exc, HTTPException):
        return exc.code or 500
    return 500


def idempotent(view):
    """Decorate a POST view (inside the auth decorator) to honour Idempotency-Key."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValidationFailed("Idempotency-Key 长度须为 1 到 255 个字符",
                                   errors={HEADER: ["length must be 1..255"]})
        caller = g.get("caller")
        user_id = caller.id if caller is not None else 0
        request_hash = _request_hash()
        run = current_run()
        mine = run is not None and run.kept.get((HEADER, user_id, key)) == request_hash
        if not mine:   # a retried attempt (coop/transaction.py) holds the claim already
            existing = _claim(user_id, key, request_hash)
            if existing is not None:
                if existing.request_hash != request_hash:
                    raise Conflict("该 Idempotency-Key 已用于不同的请求",
                                   code="IDEMPOTENCY_KEY_REUSED")
                if existing.state == DONE:
                    return _replay(existing)
                if not _take_over(existing):
                    raise Conflict("相同 Idempotency-Key 的请求正在处理中，请稍后重试")
            if run is not None:
                run.kept[(HEADER, user_id, key)] = request_hash
                run.on_give_up(lambda: _release(user_id, key))
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except Exception as exc:
            if run is not None and is_retryable(exc):
                raise   # the run tries again, or releases the key when it gives up
            if not 400 <= _status_of(exc) < 500:
                _release(user_id, key)
                raise
            db.session.rollback()   # the view's writes go; its refusal is kept
            response = problem_for_exception(exc)
        if response.status_code >= 500:
            _release(user_id, key)
            return response
        _store(user_id, key, response)   # committed with the view's writes
        return response

    wrapper._idempotent = True
    return wrapper


def prune(session, older_than: timedelta) -> int:
    """Delete keys older than `older_than`; returns how many went."""
    cutoff = utcnow() - older_than
    result = session.execute(delete(IdempotencyRecord)
                             .where(IdempotencyRecord.created_at < cutoff))
    return result.rowcount or 0


cli = Blueprint("idempotency_cli", __name__, cli_group="idempotency")


@cli.cli.command("prune")
@click.option("--hours", type=click.IntRange(min=24), default=None,
              help="Keep keys younger than this (≥ 24; default IDEMPOTENCY_TTL_HOURS).")
@with_appcontext
def prune_command(hours):
    """Delete idempotency keys older than the retention period."""
    hours = hours or current_app.config["IDEMPOTENCY_TTL_HOURS"]
    with unit_of_work():
        count = prune(db.session, timedelta(hours=max(24, hours)))
    click.echo(f"pruned {count} idempotency keys older than {hours} h")
