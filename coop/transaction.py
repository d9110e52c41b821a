"""The one transaction rule, and the one status-transition helper.

Every request runs in one unit of work: the app's `dispatch_request` (coop/__init__.py)
runs each view inside `unit_of_work()`, which commits when the view returns a response and
rolls back when it raises. CLI
commands open `unit_of_work()` themselves. Services never commit or roll back: they
`flush()` when they need ids or a constraint's verdict, and raise a DomainError to refuse.
A request therefore writes all of its rows or none of them.

The one exception is coop/idempotency.py, which commits an Idempotency-Key's claim before
the view runs, so that the database's unique key decides between two concurrent copies.
"""
from __future__ import annotations

from contextlib import contextmanager
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from coop.errors import Conflict, DomainError
from coop.extensions import db


@contextmanager
def unit_of_work(session: Session | None = None):
    """Commit what the block wrote, or roll all of it back if the block raises (but for a
    refusal marked `keep_writes`, which commits first)."""
    session = session if session is not None else db.session
    try:
        yield session
        session.commit()
    except DomainError as exc:
        if exc.keep_writes:
            session.commit()
        else:
            session.rollback()
        raise
    except BaseException:   # a failed commit (a lost race) rolls back too
        session.rollback()
        raise


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
