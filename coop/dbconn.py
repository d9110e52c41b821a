"""How the app talks to MariaDB/MySQL: a read costs its statements and no exchange besides.

Every statement, COMMIT, ROLLBACK and ping is a network exchange parsed by the driver; on a
small read those exchanges, not the SQL, are most of the cost (docs/performance.md, "Round
trips"). So the connection runs in autocommit and opens a transaction only where one is
needed — before the first statement that writes or locks (`START TRANSACTION` sent just
ahead of it), as Python's sqlite3 module does. A request that only reads never opens one,
so its COMMIT and the pool's ROLLBACK are skipped: an object read is its SELECTs, nothing
else.

Why this changes nothing a request can see, under READ COMMITTED (set on every connection
by `init_command`): there, every non-locking SELECT reads the latest committed rows whether
or not a transaction is open, and takes no lock; so plain reads before a request's first
write see exactly what they would have seen inside the transaction. From the first write
or locking read on, the request is in one transaction, committed or rolled back as a
whole by its unit of work (coop/transaction.py). A caller that needs one snapshot for
several reads (coop/backup.py: REPEATABLE READ) sets an isolation level; SQLAlchemy turns
autocommit off for it, every statement is then transactional as usual, and the
connection is put back in autocommit when it returns to the pool.

The bookkeeping sits in the driver connection's `query` (every statement, whatever sends
it: the ORM, Alembic, a raw cursor), `commit` and `rollback`, so it holds for both
drivers, PyMySQL and mysqlclient.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from pymysql import converters
from pymysql.constants import FIELD_TYPE

# Statements that never need a transaction: plain reads and session settings. A SELECT
# with a locking clause is a write for this purpose (its locks live until COMMIT).
_NO_TRANSACTION = re.compile(rb"\s*\(*\s*(SELECT|SHOW|WITH|SET|DESCRIBE|EXPLAIN)\b", re.I)
_LOCKING = re.compile(rb"\bFOR\s+UPDATE\b|\bLOCK\s+IN\s+SHARE\s+MODE\b|\bFOR\s+SHARE\b",
                      re.I)
_OPENS = re.compile(rb"\s*(START\s+TRANSACTION|BEGIN|XA\s+START)\b", re.I)
# DDL commits implicitly; COMMIT/ROLLBACK sent as text end the transaction too.
_ENDS = re.compile(rb"\s*(CREATE|ALTER|DROP|TRUNCATE|RENAME|LOCK\s+TABLES|UNLOCK\s+TABLES"
                   rb"|COMMIT|ROLLBACK(?!\s+(WORK\s+)?TO\b)|XA\s+(COMMIT|ROLLBACK))\b", re.I)

# Set on every new connection (and so on a replacement of a dropped one).
INIT_COMMAND = "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"


def needs_transaction(sql: bytes) -> bool:
    if _NO_TRANSACTION.match(sql):
        return bool(_LOCKING.search(sql))
    return True


def _lazy_transaction_class(base: type) -> type:
    """`base` (a DBAPI connection class) opening its transactions on the first write."""

    class LazyTransactionConnection(base):
        began = False      # a transaction is open on the server (ours or the caller's)

        def query(self, sql, *args, **kwargs):
            raw = sql.encode("utf8") if isinstance(sql, str) else sql
            if not self.began:
                if _OPENS.match(raw):
                    self.began = True
                elif needs_transaction(raw):
                    if self.get_autocommit():
                        super().query(b"START TRANSACTION")
                    self.began = True
            try:
                return super().query(sql, *args, **kwargs)
            finally:
                if self.began and _ENDS.match(raw):
                    self.began = False

        @property
        def in_transaction(self) -> bool:
            """As sqlite3's: whether a COMMIT would end something (coop/transaction.py).
            Outside autocommit (an isolation level was set) every statement is
            transactional."""
            return self.began or not self.get_autocommit()

        def begin(self):
            super().begin()
            self.began = True

        def commit(self):
            # Outside autocommit (an isolation level was set) every statement is
            # transactional: always end it.
            if self.began or not self.get_autocommit():
                base.commit(self)       # the driver's: one COMMIT exchange
            self.began = False

        def rollback(self):
            if self.began or not self.get_autocommit():
                base.rollback(self)
            self.began = False

    LazyTransactionConnection.__name__ = f"LazyTransaction{base.__name__}"
    return LazyTransactionConnection


_CLASSES: dict[str, type] = {}


def connection_class(driver: str) -> type:
    if driver not in _CLASSES:
        if driver == "pymysql":
            from pymysql.connections import Connection
        elif driver == "mysqldb":
            from MySQLdb.connections import Connection
        else:
            raise ValueError(f"unsupported MySQL driver {driver!r}: use pymysql or mysqldb")
        _CLASSES[driver] = _lazy_transaction_class(Connection)
    return _CLASSES[driver]


def _datetime(value):
    """A DATETIME/TIMESTAMP as the server sends it, `YYYY-MM-DD hh:mm:ss[.ffffff]`, read
    by the standard library's `fromisoformat` (C); anything else (a zero date) by
    PyMySQL's own converter, which answers as it always has."""
    text = value.decode("ascii") if isinstance(value, (bytes, bytearray)) else value
    if len(text) == 19 or (20 < len(text) <= 26 and text[19] == "." and text[20:].isdigit()):
        if text[10] == " ":
            try:
                return datetime.fromisoformat(text)
            except ValueError:
                pass
    return converters.convert_datetime(text)


def _date(value):
    """A DATE, `YYYY-MM-DD`, as `_datetime` reads a DATETIME."""
    text = value.decode("ascii") if isinstance(value, (bytes, bytearray)) else value
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    return converters.convert_date(text)


# PyMySQL's conversions with dates and times read in C: PyMySQL parses each with a
# regular expression and an int() per part, a quarter of the driver's CPU on a page of 20
# members (docs/performance.md). mysqlclient keeps its own.
PYMYSQL_CONVERSIONS = {**converters.conversions, FIELD_TYPE.DATETIME: _datetime,
                       FIELD_TYPE.TIMESTAMP: _datetime, FIELD_TYPE.DATE: _date}


def install(engine) -> None:
    """Make `engine`'s MySQL connections lazy-transaction, autocommit, READ COMMITTED
    (and, on PyMySQL, decode dates in C)."""
    from sqlalchemy import event
    driver = engine.dialect.driver
    cls = connection_class(driver)
    extra = {"conv": PYMYSQL_CONVERSIONS} if driver == "pymysql" else {}

    @event.listens_for(engine, "do_connect")
    def _connect(dialect, connection_record, cargs, cparams):
        return cls(*cargs, **{**extra, **cparams, "autocommit": True,
                              "init_command": INIT_COMMAND})

    @event.listens_for(engine.pool, "checkin")
    def _back_to_autocommit(dbapi_connection, connection_record):
        # An isolation level set for one use (SQLAlchemy turns autocommit off for it) is
        # reset before the connection comes back; put autocommit back too. One exchange,
        # only after such a use.
        if dbapi_connection is not None and not dbapi_connection.get_autocommit():
            dbapi_connection.autocommit(True)
            dbapi_connection.began = False
