"""The one reader of uploaded spreadsheets (.xlsx and .csv), bounded in every dimension.

An upload is small on the wire and can be huge once read: a 300 KB .xlsx can hold two
million empty `<row>` elements (61 s of parsing, past gunicorn's timeout), a 1.5 MB one
can inflate to 500 MB. Every import (members, trades, the opening share register) reads
through `rows()`, which refuses, in the contract's format and before the work is done:

* a file larger than the caller's `max_bytes` (413);
* an .xlsx whose parts declare more inflated bytes than `max_inflated` or than
  `MAX_RATIO` × its own size (413) — checked on the zip directory, before inflating; the
  zip reader never inflates a part past its declared size;
* more rows read (blank ones included) than `max_rows` + `slack` (413): a run of
  `blank_run` blank rows ends the sheet instead (Excel's formatted-but-empty tail);
* more than `max_columns` cells of a row are never handed on;
* more than `max_seconds` spent reading (413);
* a cell holding a control character, a bidi override or another invisible character
  (422 naming the row: the same rule as for JSON bodies, coop.validators.text_problem);
* anything the parsers cannot read (422).
"""
from __future__ import annotations

import csv
import io
import re
import time
import zipfile
from dataclasses import dataclass
from typing import Iterator

from coop.errors import DomainError, TooLarge, ValidationFailed
from coop.validators import text_problem

XLSX_MAGIC = b"PK\x03\x04"
XLSX_NAMES = (".xlsx", ".xls", ".xlsm")
# An .xlsx part inflates 5–20× (shared strings, repeated row markup); 100× is a bomb.
MAX_RATIO = 100
_ROW_CHECK = 256  # rows between two looks at the clock


@dataclass(frozen=True)
class Bounds:
    max_bytes: int                   # the upload itself
    max_rows: int                    # data rows the import accepts
    max_columns: int = 40
    max_inflated: int = 64 * 1024 * 1024
    max_seconds: float = 15.0        # well inside gunicorn's 60 s
    slack: int = 1_000               # title and header rows, blank rows between data
    blank_run: int = 1_000           # this many blank rows in a row end the sheet


_HEADER_NOISE = re.compile(r"[\s*＊:：()（）\ufeff]")


def cell_text(value) -> str:
    """A cell as text: empty for None, a whole number Excel stored as a float without its
    ".0", stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def header_key(cell, headers: dict[str, tuple]) -> str | None:
    """The field a header cell names in `headers` ({field: accepted names}), whatever the
    spaces, stars, colons, brackets and byte-order mark around it, in any case."""
    text = _HEADER_NOISE.sub("", str(cell or "")).lower()
    return next((field for field, names in headers.items() if text in names), None)


def is_blank(cells) -> bool:
    return not any(c is not None and str(c).strip() for c in cells)


def rows(filename: str, data: bytes, bounds: Bounds) -> Iterator[tuple]:
    """The upload's rows (blank ones included, so row numbers are the sheet's), each a
    tuple of at most `max_columns` cells: an .xlsx's typed values, a CSV's strings."""
    if len(data) > bounds.max_bytes:
        raise TooLarge(f"文件超过 {bounds.max_bytes / (1024 * 1024):.1f} MB 上限")
    if data[:4] == XLSX_MAGIC:
        source = _xlsx(data, bounds)
    elif (filename or "").lower().endswith(XLSX_NAMES):
        raise ValidationFailed("仅支持 .xlsx（Excel 2007 及以后）或 .csv 文件",
                               errors={"file": ["不是有效的 .xlsx 文件，旧版 .xls 请另存为 .xlsx"]})
    else:
        source = _csv(data, bounds)
    return _bounded(source, bounds)


def table(filename: str, data: bytes, bounds: Bounds) -> list[tuple]:
    """`rows()` as a list, trailing blank rows dropped."""
    result = list(rows(filename, data, bounds))
    while result and is_blank(result[-1]):
        result.pop()
    return result


def _bounded(source: Iterator[tuple], bounds: Bounds) -> Iterator[tuple]:
    limit = bounds.max_rows + bounds.slack
    deadline = time.monotonic() + bounds.max_seconds
    blanks = 0
    for count, cells in enumerate(source, start=1):
        if count > limit:
            raise TooLarge(f"表格行数过多（最多 {bounds.max_rows} 行数据），请删除空行或分批导入",
                           errors={"file": [f"超过 {limit} 行"]})
        if count % _ROW_CHECK == 0 and time.monotonic() > deadline:
            raise TooLarge("表格过大，读取超时，请分批导入",
                           errors={"file": [f"读取超过 {bounds.max_seconds:g} 秒"]})
        if is_blank(cells):
            blanks += 1
            if blanks >= bounds.blank_run:
                return
            yield cells
            continue
        blanks = 0
        for cell in cells:
            if isinstance(cell, str) and (problem := text_problem(cell)):
                raise ValidationFailed(f"第 {count} 行{problem}，未导入任何数据",
                                       errors={str(count): [problem]})
        yield cells


def _xlsx(data: bytes, bounds: Bounds) -> Iterator[tuple]:
    unreadable = ValidationFailed("无法读取该 .xlsx 文件，请确认文件未损坏",
                                  errors={"file": ["xlsx 无法解析"]})
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise unreadable from None
    if inflated > min(bounds.max_inflated, MAX_RATIO * len(data)):
        raise TooLarge("xlsx 文件解压后过大", errors={"file": ["解压后过大，疑似压缩炸弹"]})
    try:
        from openpyxl import load_workbook
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            for cells in sheet.iter_rows(values_only=True, max_col=bounds.max_columns):
                yield tuple(cells)
        finally:
            book.close()
    except DomainError:
        raise
    except Exception:  # noqa: BLE001 - any parser failure on an upload is the file's fault
        raise unreadable from None


def _csv(data: bytes, bounds: Bounds) -> Iterator[tuple]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes almost anything
        raise ValidationFailed("无法识别文件编码", errors={"file": ["请使用 UTF-8 或 GBK 编码"]})
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            yield tuple(row[:bounds.max_columns])
    except csv.Error:
        raise ValidationFailed("无法读取该 CSV 文件", errors={"file": ["CSV 格式错误"]}) from None
