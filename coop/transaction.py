"""The one transaction rule, its retry, and the one status-transition helper.

Every request runs in one unit of work: the app's `dispatch_request` (coop/__init__.py)
runs each view through `run_in_transaction()`, which commits when the view returns a
response and rolls back when it raises. CLI commands open `unit_of_work()` themselves
(coop/commands.py). Services never commit or roll back: they `flush()` when they need ids
or a constraint's verdict, and raise a DomainError to refuse. A request therefore writes
all of its rows or none of them.

Retry. On a multi-primary cluster (Galera) the row locks of one node do not hold on
another: a conflicting write is found at certification and the loser gets MySQL error
1213 at any statement or at COMMIT, as for a deadlock on one server. The server has then
rolled the whole transaction back, so `run_in_transaction` rolls back, waits a few jittered
milliseconds and runs the whole view again, up to ATTEMPTS times; a request that still
loses answers 409 STATE_CONFLICT (coop/errors.py). This is safe because the request's
transaction is the unit — nothing of a failed attempt was committed — and because the
view is a function of the request alone: each attempt starts from what the request
started with (the app restores `g` and rewinds uploaded files, coop/__init__.py), rows
loaded before are expired by the rollback, and what the failed attempt queued on the
session (audit rows, coop/audit.py; the notification outbox rows, ordinary rows) goes
with the rollback. Only 1213 is retried (coop/errors.py says why not 1205, and why a
wsrep error that is not a conflict answers 503). A refusal (DomainError) is an answer,
never retried.

The one exception to "one transaction per request" is coop/idempotency.py, which commits
an Idempotency-Key's claim before the view runs, so that the database's unique key
decides between two concurrent copies. A retry must not claim again (it would find its
own claim and answer 409 "in progress"): the claim is remembered in the run
(`current_run().kept`), which outlives the attempts, and the next attempt goes straight to
the view. If every attempt loses, nothing but the claim was committed, and the run's
`on_give_up` callback releases it so that the client's retry with the same key executes.
"""
from __future__ import annotations

import contextvars
import logging
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Callable, TypeVar

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.orm.attributes import set_committed_value

from coop.errors import Conflict, DomainError, db_error_code, is_retryable
from coop.extensions import db

log = logging.getLogger("coop.transaction")

# Six attempts. A Galera certification conflict is decided in milliseconds, but on one
# hot row (a program's budget: 50 approvals racing over three nodes) three attempts left
# a tenth to a fifth of the racers with a 409 that a single server would have answered
# with a definite 200 or 422 (docs/performance.md, cluster). The waits double, with full
# jitter so the racers do not all come back at once: at most 10+20+40+80+160 ms in all,
# far inside any client's timeout.
ATTEMPTS = 6
BACKOFF_SECONDS = 0.01

T = TypeVar("T")


@contextmanager
def unit_of_work(session: Session | None = None):
    """Commit what the block wrote, or roll all of it back if the block raises (but for a
    refusal marked `keep_writes`, which commits first)."""
    session = session if session is not None else db.session
    try:
        yield session
    except DomainError as exc:
        if exc.keep_writes:
            _commit(session)
        else:
            session.rollback()
        raise
    except BaseException:
        session.rollback()
        raise
    else:
        _commit(session)


def _commit(session: Session) -> None:
    if not _may_have_written(session):
        # A COMMIT could change nothing; its bookkeeping is a few per cent of a small
        # read's CPU (docs/performance.md). Loaded objects are expired as a commit would,
        # so that a later unit of work in the same session (a CLI command's next step)
        # reads them again.
        session.expire_all()
        return
    try:
        session.commit()
    except BaseException:   # a failed commit (a lost race, a certification failure)
        session.rollback()
        raise


def _may_have_written(session: Session) -> bool:
    """False only when a COMMIT could change nothing: no object added, changed or
    deleted, nothing queued for the commit in `session.info` (the audit trail's pending
    entries), and no database transaction open on the connection. One opens before the
    first write of any kind — an ORM flush, a Core UPDATE (`transition()`), an INSERT, a
    SAVEPOINT, a locking read: the connection's `in_transaction`, sqlite3's own and on
    MariaDB coop/dbconn.py's. A driver without it: True, commit as always."""
    if session.new or session.dirty or session.deleted or session.info:
        return True
    if isinstance(session, scoped_session):
        session = session()
    if not session.in_transaction():
        return False
    return getattr(session.connection().connection.dbapi_connection, "in_transaction", True)


@dataclass
class Run:
    """One `run_in_transaction` call: which attempt this is, and what outlives attempts."""
    attempts: int
    number: int = 1
    kept: dict = field(default_factory=dict)
    _on_give_up: list[Callable[[], None]] = field(default_factory=list)

    def on_give_up(self, callback: Callable[[], None]) -> None:
        """Call `callback` (in its own unit of work) if every attempt loses."""
        self._on_give_up.append(callback)

    def _give_up(self) -> None:
        for callback in self._on_give_up:
            try:
                callback()
            except Exception:   # the answer is the conflict; the callback's fate is logged
                db.session.rollback()
                log.warning("give-up callback failed", exc_info=True)


_RUN: contextvars.ContextVar[Run | None] = contextvars.ContextVar("coop_run", default=None)


def current_run() -> Run | None:
    """The `run_in_transaction` call the caller is inside, if any."""
    return _RUN.get()


def run_in_transaction(fn: Callable[[], T], session: Session | None = None, *,
                       attempts: int = ATTEMPTS,
                       before_retry: Callable[[], None] | None = None) -> T:
    """`fn()` in a unit of work, run again (after `before_retry()`) while the database
    refuses the transaction for a conflict, at most `attempts` times in all; the last
    refusal is raised (409 STATE_CONFLICT by coop/errors.py).

    Inside another run (a view calling a service that runs its own) `fn` runs once: the
    outer run's rollback would undo both, so only the outer run may retry.
    """
    session = session if session is not None else db.session
    if _RUN.get() is not None:
        with unit_of_work(session):
            return fn()
    run = Run(attempts)
    token = _RUN.set(run)
    try:
        while True:
            result = None
            try:
                with unit_of_work(session):
                    result = fn()
                return result
            except Exception as exc:
                if not is_retryable(exc):
                    raise
                _discard(result)
                if run.number >= attempts:
                    log.warning("transaction lost %d times, giving up", run.number,
                                extra={"attempt": run.number, "db_error": db_error_code(exc)})
                    run._give_up()
                    raise
                log.warning("transaction lost a conflict, retrying",
                            extra={"attempt": run.number, "db_error": db_error_code(exc)})
                time.sleep(random.uniform(0, BACKOFF_SECONDS * 2 ** (run.number - 1)))
                run.number += 1
                if before_retry is not None:
                    before_retry()
    finally:
        _RUN.reset(token)


def _discard(result) -> None:
    """Close what a failed attempt returned before its COMMIT failed (a streamed
    response's generator): it is never sent."""
    close = getattr(result, "close", None)
    if callable(close):
        close()


def flush_or_conflict(session: Session, error: DomainError | str) -> None:
    """Flush; a unique key lost to a concurrent writer answers `error` (409 STATE_CONFLICT
    with that detail when given a string), never a 500. The unit of work rolls back."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise (error if isinstance(error, DomainError) else Conflict(error)) from exc


def transition(session: Session, obj, expected: tuple[StrEnum, ...] | StrEnum,
               detail: str = "状态已被其他操作改变，请刷新后重试", **values) -> None:
    """Set `values` (the new status among them) on `obj`'s row only if its status is still
    one of `expected`; otherwise another request changed it first: 409 STATE_CONFLICT.

    The check and the change are one UPDATE, so of two racing requests exactly one wins.
    `obj` then shows the new values; columns the UPDATE sets itself (`updated_at`) are
    re-read when next used.
    """
    expected = (expected,) if isinstance(expected, str) else tuple(expected)
    model = type(obj)
    changed = session.execute(
        update(model).where(model.id == obj.id, model.status.in_(expected))
        .values(**values).execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise Conflict(detail)
    for key, value in values.items():
        set_committed_value(obj, key, value)
    stale = [c.key for c in model.__table__.columns if c.onupdate is not None and c.key not in values]
    if stale:
        session.expire(obj, stale)
