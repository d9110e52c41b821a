"""Connections go back to the pool with no transaction open — and, on MySQL, with one
exchange that ends the request's transaction (its unit of work's COMMIT), not a second
ROLLBACK from the pool after it (coop/__init__.py)."""
from __future__ import annotations

import pytest

from tests.conftest import is_mysql


def in_transaction(dbapi_connection) -> bool:
    if is_mysql():
        from pymysql.constants import SERVER_STATUS
        return bool(dbapi_connection.server_status & SERVER_STATUS.SERVER_STATUS_IN_TRANS)
    return dbapi_connection.in_transaction


def test_a_connection_returned_mid_transaction_is_rolled_back(db, make):
    user = make.user(name="原名")
    raw = db.engine.raw_connection()
    dbapi = raw.dbapi_connection
    mark = "?" if db.engine.dialect.paramstyle == "qmark" else "%s"
    cursor = raw.cursor()
    cursor.execute(f"UPDATE users SET name = {mark} WHERE id = {mark}", ("改名", user.id))
    cursor.close()
    assert in_transaction(dbapi)          # the UPDATE's row lock is held
    raw.close()                           # returned neither committed nor rolled back
    assert not in_transaction(dbapi)      # the pool's reset released it
    db.session.expire_all()
    assert db.session.get(type(user), user.id).name == "原名"


@pytest.mark.skipif(not is_mysql(), reason="SQLite rolls back in-process: no round trip")
def test_a_request_ends_its_transaction_once(client, db, make, monkeypatch):
    import pymysql.connections
    user, headers = make.login("county_admin", make.county())
    url = f"/api/v1/users/{user.id}"
    db.session.close()   # the test's own session holds no transaction into the request
    sent = []
    for name in ("commit", "rollback"):
        original = getattr(pymysql.connections.Connection, name)

        def counting(self, original=original, name=name):
            sent.append(name)
            return original(self)
        monkeypatch.setattr(pymysql.connections.Connection, name, counting)
    assert client.get(url, headers=headers).status_code == 200
    assert sent == ["commit"]
