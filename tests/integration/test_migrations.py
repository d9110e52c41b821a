"""Migrations run upgrade → downgrade → upgrade, and leave a schema equal to the models."""
from __future__ import annotations

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from coop import create_app
from coop.extensions import db as _db
from tests.conftest import TEST_CONFIG


@pytest.fixture
def empty_database(tmp_path, app):
    """A fresh database on the same server as the test database (or a new SQLite file)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"{url.database}_mig"
    server = create_engine(url.set(database=""))
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    yield url.set(database=name).render_as_string(hide_password=False)
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    server.dispose()


def _pending_diff(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, _db.metadata)


def test_upgrade_downgrade_upgrade_matches_models(empty_database):
    migrated = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database})
    with migrated.app_context():
        flask_migrate.upgrade()
        tables = set(inspect(_db.engine).get_table_names())
        assert set(_db.metadata.tables) <= tables
        flask_migrate.downgrade(revision="base")
        assert set(inspect(_db.engine).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        assert _pending_diff(_db.engine) == []
        head = _db.session.execute(text("SELECT seq, hash FROM audit_head")).one()
        assert head == (0, "0" * 64)
        _db.session.remove()
        _db.engine.dispose()
