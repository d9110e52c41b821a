"""PyMySQL's dates read in C (coop/dbconn.py) answer exactly as PyMySQL's own converters:
for every value the server sends, and for anything else, zero dates included."""
from __future__ import annotations

from datetime import datetime

from hypothesis import example, given
from hypothesis import strategies as st
from pymysql import converters

from coop.dbconn import PYMYSQL_CONVERSIONS, _date, _datetime
from pymysql.constants import FIELD_TYPE


def as_server_sends(value: datetime, digits: int) -> str:
    """DATETIME(digits) as text: the fraction has the column's precision."""
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    return text + "." + f"{value.microsecond:06d}"[:digits] if digits else text


@given(st.datetimes(min_value=datetime(1000, 1, 1)), st.integers(0, 6), st.booleans())
def test_every_datetime_the_server_sends_reads_as_pymysql_reads_it(value, digits, raw):
    text = as_server_sends(value, digits)
    wire = text.encode("ascii") if raw else text
    got = _datetime(wire)
    assert got == converters.convert_datetime(wire)
    assert type(got) is datetime


@given(st.dates(), st.booleans())
def test_every_date_the_server_sends_reads_as_pymysql_reads_it(value, raw):
    text = value.isoformat()
    wire = text.encode("ascii") if raw else text
    assert _date(wire) == converters.convert_date(wire) == value


@given(st.text(alphabet="0123456789-:. T+Z", min_size=0, max_size=30))
@example("0000-00-00 00:00:00")
@example("0000-00-00")
@example("2026-02-31 10:00:00")
@example("2026-12-07 09:38:12+08:00")
@example("2026-12-07")
@example("20261207T093812")
@example("2026-12-07 09:38:12.1234567")
def test_anything_else_reads_as_pymysql_reads_it(text):
    assert outcome(_datetime, text) == outcome(converters.convert_datetime, text)
    assert outcome(_date, text) == outcome(converters.convert_date, text)


def outcome(convert, text):
    """What `convert` answers (value and type), or the error it raises (PyMySQL raises
    TypeError on some nonsense; so must its stand-in)."""
    try:
        value = convert(text)
    except Exception as exc:        # compared, not swallowed
        return type(exc)
    return value, type(value)


def test_the_connection_uses_them_for_dates_and_keeps_the_rest():
    assert PYMYSQL_CONVERSIONS[FIELD_TYPE.DATETIME] is _datetime
    assert PYMYSQL_CONVERSIONS[FIELD_TYPE.TIMESTAMP] is _datetime
    assert PYMYSQL_CONVERSIONS[FIELD_TYPE.DATE] is _date
    others = {k: v for k, v in converters.conversions.items()
              if k not in (FIELD_TYPE.DATETIME, FIELD_TYPE.TIMESTAMP, FIELD_TYPE.DATE)}
    assert {k: PYMYSQL_CONVERSIONS[k] for k in others} == others
