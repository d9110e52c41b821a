"""Fixtures of the abuse tests: one world per module (tests/abuse/world.py).

Building the three scopes takes a moment, and the matrix sends a few thousand requests,
so each module builds the world once and its tests share it. Tests here must not ask for
`db`, `client` or `make` (those empty the tables before every test); they use `api`.
"""
from __future__ import annotations

import pytest

from coop.extensions import db as _db
from tests.abuse.world import build_world


@pytest.fixture(scope="module")
def world(app):
    with app.app_context():
        yield build_world()
        _db.session.rollback()
        _db.session.remove()


@pytest.fixture
def api(app, world):
    """A client on the module's world; whatever a failed test left in the session goes."""
    yield app.test_client()
    _db.session.rollback()
