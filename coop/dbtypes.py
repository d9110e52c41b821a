"""Column types shared by every model.

Ids are BIGINT on MySQL but INTEGER on SQLite, because only an `INTEGER PRIMARY KEY` is
an auto-incrementing rowid there. Money is BIGINT fen. Timestamps are stored as naive UTC
(MySQL has no zone-aware type) with microseconds, and come back zone-aware.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, Numeric, String
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import mapped_column
from sqlalchemy.types import TypeDecorator

import coop.clock as clock

IdType = BigInteger().with_variant(Integer(), "sqlite")
MAX_ID = 2**63 - 1
BINARY_COLLATION = "utf8mb4_bin"


def Ident(length: int):  # noqa: N802 (a column type, like String)
    """A column that identifies (a phone, a keyed hash, a credit code, a token): compared
    byte for byte. MariaDB's default utf8mb4_unicode_ci holds "１３８…" (full-width),
    "①③⑧…" and "138…\u200b…" equal to "138…", and "ABC" equal to "abc": a lookup or a
    unique key there would match what is not the same identifier. SQLite compares
    binary already."""
    return String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation=BINARY_COLLATION), "mysql", "mariadb")


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out; naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    """Column defaults read the one clock (coop/clock.py), so tests can move it."""
    return clock.now()


def fk(target: str, **kw):
    """A foreign-key column of the id type (MySQL requires both sides to match)."""
    ondelete = kw.pop("ondelete", None)
    return mapped_column(IdType, ForeignKey(target, ondelete=ondelete), **kw)


intpk = Annotated[int, mapped_column(IdType, primary_key=True, autoincrement=True)]
money = Annotated[int, mapped_column(BigInteger, nullable=False, default=0)]
created_at = Annotated[datetime, mapped_column(UTCDateTime, nullable=False, default=utcnow)]
# Rates like "0.1500": four decimal places is what charters and county rules use.
rate = Annotated[Decimal, mapped_column(Numeric(9, 4), nullable=False)]
