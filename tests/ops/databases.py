"""Databases of the operations tests' own, beside the suite's: a SQLite file, or a
database named after the test database on the same MariaDB server."""
from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from coop import create_app
from tests.conftest import TEST_CONFIG, IsolatedClient


@contextmanager
def fresh_database(suite_url: str, folder: Path, name: str):
    """Yield the URL of a new, empty database called `name`; drop it afterwards."""
    url = make_url(suite_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{folder / (name + '.sqlite3')}"
        return
    database = f"{url.database}_{name}"
    server = create_engine(url.set(database=""))
    try:
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{database}`"))
            conn.execute(text(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 "
                              "COLLATE utf8mb4_unicode_ci"))
        yield url.set(database=database).render_as_string(hide_password=False)
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{database}`"))
    finally:
        server.dispose()


def app_on(url: str, **config):
    """An app of the test profile on `url` (tests build several apps in one process)."""
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, **config})
    app.test_client_class = IsolatedClient
    return app


def dispose(app) -> None:
    from coop.extensions import db
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def backup_of(app, out: Path) -> dict:
    """`flask backup create --out OUT` on `app`, which must succeed; the backup's manifest."""
    from coop.backup import MANIFEST
    result = app.test_cli_runner().invoke(args=["backup", "create", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads((out / MANIFEST).read_text(encoding="utf-8"))
