"""The bank's return file (银行回单) of a batch, uploaded as .csv or .xlsx (CONTRACT §10).

Columns, found by their header anywhere in the first rows: 行号 or line_id (the payout
line's id, also read from the bank file's 附言 reference "2024-B7-L12"), 状态 (成功/失败,
or paid/failed), 银行流水号 (bank_ref), 支付日期 (paid_on, YYYY-MM-DD or an Excel date),
and optionally 失败原因 (reason). The rows become the same results the JSON body gives
(coop/payouts/settlement.record_results): all rows or none, errors named by row number.
"""
from __future__ import annotations

import re
from datetime import date, datetime

import coop.spreadsheets as spreadsheets
from coop.errors import DomainError, ValidationFailed

HEADERS = {
    "line_id": ("行号", "line_id", "发放行", "附言"),
    "status": ("状态", "status", "结果", "交易状态"),
    "bank_ref": ("银行流水号", "bank_ref", "流水号"),
    "paid_on": ("支付日期", "paid_on", "交易日期"),
    "reason": ("失败原因", "reason", "备注"),
}
REQUIRED = ("line_id", "status")
STATUSES = {"成功": "paid", "paid": "paid", "已支付": "paid",
            "失败": "failed", "failed": "failed", "支付失败": "failed"}
_REFERENCE = re.compile(r"-L([0-9]+)\Z")
MAX_ROWS = 10_000


def _key(cell) -> str | None:
    text = str(cell or "").strip().lower()
    return next((k for k, names in HEADERS.items() if text in names), None)


def _line_id(value) -> int | None:
    text = str(value if value is not None else "").strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if (match := _REFERENCE.search(text)) is not None:
        text = match.group(1)
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def _date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def parse(filename: str, data: bytes, max_bytes: int) -> tuple[list[dict], list[int]]:
    """(results, their row numbers) from the upload; 422 naming every bad row."""
    bounds = spreadsheets.Bounds(max_bytes=max_bytes, max_rows=MAX_ROWS)
    columns: dict[int, str] | None = None
    results, numbers, errors = [], [], {}
    for number, cells in enumerate(spreadsheets.rows(filename, data, bounds), start=1):
        if spreadsheets.is_blank(cells):
            continue
        if columns is None:
            found = {i: k for i, c in enumerate(cells) if (k := _key(c))}
            if set(REQUIRED) <= set(found.values()):
                columns = found
            continue
        row = {field: cells[i] if i < len(cells) else None for i, field in columns.items()}
        problems = []
        line_id = _line_id(row.get("line_id"))
        if line_id is None:
            problems.append("行号无效")
        status = STATUSES.get(str(row.get("status") or "").strip().lower())
        if status is None:
            problems.append("状态须为 成功 或 失败")
        paid_on = _date(row["paid_on"]) if row.get("paid_on") not in (None, "") else None
        if row.get("paid_on") not in (None, "") and paid_on is None:
            problems.append("支付日期须为 YYYY-MM-DD")
        if problems:
            errors[f"row {number}"] = problems
            continue
        bank_ref = str(row.get("bank_ref") or "").strip() or None
        reason = str(row.get("reason") or "").strip() or None
        results.append({"line_id": line_id, "status": status, "bank_ref": bank_ref,
                        "paid_on": paid_on, "reason": reason[:255] if reason else None})
        numbers.append(number)
    if columns is None:
        raise ValidationFailed("找不到表头：须包含 行号 和 状态 列",
                               errors={"file": ["缺少表头（行号、状态）"]})
    if errors:
        raise ValidationFailed("银行回单有误，未记录任何一行", errors=errors)
    if not results:
        raise ValidationFailed("银行回单中没有数据行", errors={"file": ["没有数据行"]})
    return results, numbers


def by_row(error: DomainError, numbers: list[int]) -> DomainError:
    """The settlement's errors are keyed by position in the results: name the rows."""
    if error.errors:
        error.errors = {f"row {numbers[int(k)]}" if k.isdigit() and int(k) < len(numbers)
                        else k: v for k, v in error.errors.items()}
    return error
