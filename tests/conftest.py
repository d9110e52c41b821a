"""Fixtures shared by every test: one suite, two databases.

`TEST_DATABASE_URL` (e.g. mysql+pymysql://root@127.0.0.1/coop_test) selects MariaDB;
without it the suite runs on a temporary SQLite file. Tables are created once per
session and emptied before each test that asks for `db`.
"""
from __future__ import annotations

import contextvars
import os

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from coop import create_app
from coop.extensions import db as _db
from tests.factories import Factory

TEST_CONFIG = {
    "COOP_ENV": "testing",
    "TESTING": True,
    "RATELIMIT_ENABLED": False,
    "DISCLOSURE_MIN_DAYS": 0,
    # Every response is also dumped by marshmallow itself and compared (coop/dumping.py).
    "DUMP_CROSSCHECK": True,
    "LOG_LEVEL": "WARNING",
    "JWT_SECRET": "test-jwt-secret-that-is-long-enough-0123456789",
    "FIELD_ENCRYPTION_KEY": "test-field-key-that-is-long-enough-0123456789",
}


def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def is_mysql() -> bool:
    return os.environ.get("TEST_DATABASE_URL", "").startswith("mysql")


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, as in production: its own app context,
    `g` and database session, never the test's. The test's session commits what the
    test set up before the request and re-reads rows after it."""

    def open(self, *args, **kwargs):
        in_test_context = _db.session.registry.has() if _has_app_context() else False
        if in_test_context:
            _db.session.commit()
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if in_test_context:
            _db.session.expire_all()
        return response


def _has_app_context() -> bool:
    from flask import has_app_context
    return has_app_context()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app({**TEST_CONFIG,
                      "SQLALCHEMY_DATABASE_URI": database_url(tmp_path_factory),
                      "ATTACHMENT_DIR": str(tmp_path_factory.mktemp("attachments"))})
    app.test_client_class = IsolatedClient
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def empty_all_tables() -> None:
    """Delete every row (fast enough for small test data) and re-seed the audit head."""
    from coop.audit import GENESIS, AuditHead
    conn = _db.session.connection()
    mysql = conn.dialect.name in ("mysql", "mariadb")
    if mysql:
        conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
    for table in reversed(_db.metadata.sorted_tables):
        conn.execute(table.delete())
    if mysql:
        conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    conn.execute(AuditHead.__table__.insert().values(id=1, seq=0, hash=GENESIS))
    _db.session.commit()


@pytest.fixture
def db(app):
    """An app context with empty tables; yields the Flask-SQLAlchemy `db`."""
    with app.app_context():
        empty_all_tables()
        yield _db
        _db.session.rollback()
        _db.session.remove()


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make(db):
    """Factories for rows (tests/factories.py); each commits what it creates."""
    return Factory(db.session)
