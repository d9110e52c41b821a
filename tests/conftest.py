"""Fixtures shared by every test: one suite, two databases.

`TEST_DATABASE_URL` (e.g. mysql+pymysql://root@127.0.0.1/coop_test) selects MariaDB;
without it the suite runs on a temporary SQLite file. Tables are created once per
session and emptied before each test that asks for `db`.

Cluster mode: `TEST_CLUSTER_DB_URLS` (space separated, one mysql URL per Galera node, same
database on each; `make cluster-test` sets it) spreads the suite over the nodes — every new
database connection goes to the next node in turn, and no connection is kept (see
`_rotate_over_nodes`).
"""
from __future__ import annotations

import contextvars
import itertools
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


def cluster_urls() -> list[str]:
    return os.environ.get("TEST_CLUSTER_DB_URLS", "").split()


def database_url(tmp_path_factory) -> str:
    url = cluster_urls()[0] if cluster_urls() else os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def is_mysql() -> bool:
    return bool(cluster_urls()) or os.environ.get("TEST_DATABASE_URL", "").startswith("mysql")


def _engine_config(url: str) -> dict:
    if not cluster_urls():
        return {}
    from coop import _engine_options
    # A first-in-first-out pool holding connections to the nodes in turn (see
    # _rotate_over_nodes): each checkout takes the connection put back longest ago, so
    # successive units of work — requests, the test's own setup and read-back, a request's
    # separate idempotency claim — run on node 1, 2, 3, 1, … Writes land on all three, and
    # every read must see, through wsrep_sync_wait, what another node acknowledged. (No
    # pool at all would rotate too, but a new MariaDB connection costs ~90 ms here.)
    size = 2 * len(cluster_urls())
    return {"SQLALCHEMY_ENGINE_OPTIONS": {**_engine_options(url), "pool_size": size,
                                          "max_overflow": size, "pool_use_lifo": False}}


def _rotate_over_nodes(app) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import make_url
    urls = cluster_urls()
    if not urls:
        return
    with app.app_context():
        engine = _db.engine
    nodes = [engine.dialect.create_connect_args(make_url(url).update_query_dict(
        {"charset": "utf8mb4"})) for url in urls]
    turn = itertools.count()

    def _next_node(dialect, connection_record, cargs, cparams):
        node_args, node_params = nodes[next(turn) % len(nodes)]
        cargs[:] = node_args
        cparams.clear()
        cparams.update(node_params)

    # Ours must run first: the app's own do_connect listener (coop/dbconn.py) then connects
    # with these parameters. (insert=True does not reorder listeners already on the
    # engine's dialect, so they are taken off and put back after ours.)
    installed = list(engine.dialect.dispatch.do_connect)
    for listener in installed:
        event.remove(engine, "do_connect", listener)
    event.listen(engine, "do_connect", _next_node)
    for listener in installed:
        event.listen(engine, "do_connect", listener)
    # Fill the pool in node order: opened together, put back in the order opened.
    opened = [engine.connect() for _ in range(engine.pool.size())]
    for connection in opened:
        connection.close()


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
    url = database_url(tmp_path_factory)
    app = create_app({**TEST_CONFIG, **_engine_config(url),
                      "SQLALCHEMY_DATABASE_URI": url,
                      "ATTACHMENT_DIR": str(tmp_path_factory.mktemp("attachments"))})
    _rotate_over_nodes(app)
    app.test_client_class = IsolatedClient
    with app.app_context(), _db.engine.begin() as connection:
        # One connection, so one node: in cluster mode create_all's existence checks
        # (DESCRIBE, which wsrep_sync_wait does not cover) could otherwise run on a node
        # that has not yet applied drop_all's DROPs, skip a table, and fail on the next.
        _db.metadata.drop_all(connection)
        _db.metadata.create_all(connection)
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def empty_all_tables() -> None:
    """Delete every row (fast enough for small test data) and re-seed the audit head."""
    from coop.audit import GENESIS, ROOT, AuditHead
    conn = _db.session.connection()
    mysql = conn.dialect.name in ("mysql", "mariadb")
    if mysql:
        conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
    for table in reversed(_db.metadata.sorted_tables):
        conn.execute(table.delete())
    if mysql:
        conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    conn.execute(AuditHead.__table__.insert().values(chain=ROOT, seq=0, hash=GENESIS))
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
