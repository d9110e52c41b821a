"""Connections go back to the pool with no transaction open — and, on MySQL, a request
that wrote nothing sends neither COMMIT nor ROLLBACK (coop/dbconn.py): the count of every
exchange per request is tests/integration/test_round_trips.py."""
from __future__ import annotations

import pytest

from tests.conftest import is_mysql


def in_transaction(dbapi_connection) -> bool:
    if is_mysql():
        status = getattr(dbapi_connection, "server_status", None)
        if status is None:      # mysqlclient does not expose the server's status flags
            return dbapi_connection.began
        from pymysql.constants import SERVER_STATUS
        return bool(status & SERVER_STATUS.SERVER_STATUS_IN_TRANS)
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
def test_a_read_ends_no_transaction_and_a_write_ends_its_own_once(client, db, make,
                                                                    monkeypatch):
    user, headers = make.login("county_admin", make.county())
    url = f"/api/v1/users/{user.id}"
    db.session.close()   # the test's own session holds no transaction into the request
    base = type(db.engine.raw_connection().dbapi_connection).__mro__[1]
    sent = []
    for name in ("commit", "rollback"):
        original = getattr(base, name)

        def counting(self, original=original, name=name):
            sent.append(name)
            return original(self)
        monkeypatch.setattr(base, name, counting)
    assert client.get(url, headers=headers).status_code == 200
    assert sent == []


@pytest.mark.skipif(not is_mysql(), reason="MariaDB's lazy transaction (coop/dbconn.py)")
def test_a_plain_read_opens_no_transaction_and_a_locking_read_opens_one(db, make):
    from sqlalchemy import select
    from auth.models import User
    user = make.user(name="原名")
    with db.engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        conn.execute(select(User.name).where(User.id == user.id)).all()
        assert not in_transaction(dbapi)       # nothing to commit: no COMMIT will be sent
        conn.execute(select(User.name).where(User.id == user.id).with_for_update()).all()
        assert in_transaction(dbapi)           # the row lock lives until COMMIT/ROLLBACK
        conn.rollback()
        assert not in_transaction(dbapi)


@pytest.mark.skipif(not is_mysql(), reason="MariaDB's lazy transaction (coop/dbconn.py)")
def test_a_snapshot_reader_keeps_its_transaction_and_the_pool_gets_autocommit_back(db, make):
    """coop/backup.py reads several tables under REPEATABLE READ in one transaction: every
    read sees the first one's snapshot, a row committed meanwhile included or not."""
    from sqlalchemy import create_engine, insert, text
    from sqlalchemy.pool import NullPool
    from auth.models import User
    make.user(name="原名")
    other = create_engine(db.engine.url, poolclass=NullPool)
    with db.engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            before = conn.execute(text("SELECT COUNT(*) FROM users")).scalar()
            with other.begin() as writer:
                writer.execute(insert(User).values(phone="13900000009", name="新人"))
            assert conn.execute(text("SELECT COUNT(*) FROM users")).scalar() == before
    other.dispose()
    assert dbapi.get_autocommit() and not in_transaction(dbapi)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM users")).scalar() == before + 1


def test_dates_come_back_from_the_server_as_they_went_in(db, make):
    """Read through the connection's own decoders: a member's DATE and DATETIME columns,
    microseconds included, round-trip exactly on either driver."""
    from datetime import date, datetime, timezone
    from sqlalchemy import select
    from coop.registry.models import Member
    member = make.member(make.cooperative(), joined_on=date(2019, 2, 28))
    stamp = datetime(2026, 12, 7, 9, 38, 12, 52687, tzinfo=timezone.utc)
    member.created_at = stamp
    db.session.commit()
    db.session.expire_all()
    row = db.session.execute(select(Member.joined_on, Member.created_at, Member.left_on)
                             .where(Member.id == member.id)).one()
    assert tuple(row) == (date(2019, 2, 28), stamp, None)
    dbapi = db.session.connection().connection.dbapi_connection
    if db.engine.dialect.driver == "pymysql":
        from pymysql.constants import FIELD_TYPE
        from coop.dbconn import _date, _datetime
        assert (dbapi.decoders[FIELD_TYPE.DATE], dbapi.decoders[FIELD_TYPE.DATETIME]) \
            == (_date, _datetime)
