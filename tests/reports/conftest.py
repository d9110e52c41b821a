"""Fixtures of the reports tests: a county with payouts, and a statement counter."""
from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import event

from tests.reports.builders import payout_world


@pytest.fixture
def world(db, make):
    return payout_world(make, db.session)


@pytest.fixture
def finance_headers(make, world):
    return make.login("county_finance", world.county)[1]


@contextlib.contextmanager
def counting_statements(engine):
    """Count the SQL statements executed on `engine` inside the block."""
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
