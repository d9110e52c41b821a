"""Register lines are append-only: the ORM refuses to edit or delete them."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from coop.shares.models import ImmutableLineError, ShareLine


@pytest.fixture
def line(ledger):
    ledger.done("subscribe", ledger.member(), amount_fen=100)
    return ledger.session.execute(select(ShareLine)).scalar_one()


def _unchanged(session, line_id):
    session.rollback()
    row = session.execute(select(ShareLine.delta_fen, ShareLine.line_no)
                          .where(ShareLine.id == line_id)).one()
    assert tuple(row) == (100, 1)


def test_the_orm_refuses_to_update_a_line(db, line):
    line_id = line.id
    line.delta_fen = 1_000_000
    with pytest.raises(ImmutableLineError):
        db.session.flush()
    _unchanged(db.session, line_id)


def test_the_orm_refuses_to_delete_a_line(db, line):
    line_id = line.id
    db.session.delete(line)
    with pytest.raises(ImmutableLineError):
        db.session.flush()
    _unchanged(db.session, line_id)


def test_bulk_update_and_delete_through_the_session_are_refused(db, line):
    with pytest.raises(ImmutableLineError):
        db.session.execute(update(ShareLine).values(delta_fen=0))
    with pytest.raises(ImmutableLineError):
        db.session.execute(delete(ShareLine).where(ShareLine.id == line.id))
    _unchanged(db.session, line.id)
