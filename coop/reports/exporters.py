"""Payout report files: csv and xlsx here, pdf in pdf_export.py.

Every exporter takes the row stream of `payouts_report.report_rows` (lines, then a
Subtotal after each cooperative and town, the grand total last) and a binary file, and
calls `on_line()` once per line written (the CLI's progress bar).

Money: amounts stay integer fen until the cell is written. The csv and pdf write the
exact text of `coop.money.format_yuan`; the xlsx writes `Decimal(fen).scaleb(-2)` (fen ÷
100, exact) as a number cell — XlsxWriter formats a Decimal with Decimal's own
formatting, so the XML holds the exact decimal text ("1234.50"), no float is computed.
"""
from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import BinaryIO, Callable, Iterable

import xlsxwriter

from coop.money import format_yuan
from coop.reports.payouts_report import (PAYEE_LABELS, SCOPE_LABELS, SOURCE_LABELS,
                                         STATUS_LABELS, ReportScope, Subtotal)

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
HEADERS = ("类别", "乡镇（街道）", "合作社", "资金来源", "批次号", "明细号", "收款人类型",
           "收款人", "开户行", "银行账号（脱敏）", "金额（元）", "状态", "银行流水号",
           "支付日期", "冲正原明细号")
AMOUNT_COL = HEADERS.index("金额（元）")
DATE_COL = HEADERS.index("支付日期")
ID_COLS = tuple(HEADERS.index(h) for h in ("批次号", "明细号", "冲正原明细号"))
WIDTHS = (10, 14, 24, 10, 8, 10, 12, 14, 14, 22, 16, 10, 22, 12, 12)
SUBTOTAL_LABELS = {"cooperative": "合作社小计", "town": "乡镇小计", "total": "合计"}
COUNTY_LEVEL = "县级"


def yuan(fen: int) -> Decimal:
    """fen → yuan as an exact Decimal with two places (123450 → Decimal('1234.50'))."""
    return Decimal(int(fen)).scaleb(-2)


def line_cells(row) -> list:
    """A line's cells with the amount as integer fen (each writer converts it)."""
    return ["明细", row.town_name or COUNTY_LEVEL, row.cooperative_name or "",
            SOURCE_LABELS.get(row.source, row.source), row.batch_id, row.id,
            PAYEE_LABELS.get(row.payee_type, row.payee_type), row.payee_name,
            row.bank_name or "", row.bank_account_masked or "", int(row.amount_fen),
            STATUS_LABELS.get(row.status, row.status), row.bank_ref or "", row.paid_on,
            row.reverses_id]


def subtotal_cells(sub: Subtotal) -> list:
    cells = [""] * len(HEADERS)
    cells[0] = SUBTOTAL_LABELS[sub.level]
    if sub.level != "total":
        cells[1] = sub.town_name or COUNTY_LEVEL
    if sub.level == "cooperative":
        cells[2] = sub.cooperative_name or ""
    cells[HEADERS.index("收款人")] = f"共{sub.line_count}笔"
    cells[AMOUNT_COL] = sub.total_fen
    return cells


def summary_rows(report: ReportScope, total: Subtotal) -> list[tuple[str, str, int | None]]:
    """(label, count text, fen) rows of the summary: by source, by status, grand total."""
    scope = f"{SCOPE_LABELS[report.scope]}：{report.name}（{report.year}年）"
    rows = [("报表", report.title, None), ("范围", scope, None)]
    for source, bucket in total.by_source.items():
        rows.append((f"来源：{SOURCE_LABELS.get(source, source)}",
                     f"{bucket['line_count']}笔", bucket["total_fen"]))
    for status, bucket in total.by_status.items():
        rows.append((f"状态：{STATUS_LABELS.get(status, status)}",
                     f"{bucket['line_count']}笔", bucket["total_fen"]))
    rows.append(("批次发放额（不含冲正）", "与发放批次合计一致", total.issued_fen))
    rows.append(("冲正", "负数行", total.reversed_fen))
    rows.append(("合计", f"{total.line_count}笔（含冲正）", total.total_fen))
    return rows


def no_progress() -> None:
    return None


def write_csv(report: ReportScope, rows: Iterable, fh: BinaryIO,
              on_line: Callable[[], None] = no_progress) -> None:
    """UTF-8 with BOM (so Excel opens it as UTF-8), amounts as exact yuan text."""
    text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow(HEADERS)
    for item in rows:
        is_line = not isinstance(item, Subtotal)
        cells = line_cells(item) if is_line else subtotal_cells(item)
        cells[AMOUNT_COL] = format_yuan(cells[AMOUNT_COL])
        writer.writerow(["" if c is None else c for c in cells])
        if is_line:
            on_line()
    text.flush()
    text.detach()


def write_xlsx(report: ReportScope, rows: Iterable, fh: BinaryIO,
               on_line: Callable[[], None] = no_progress) -> None:
    """XlsxWriter in constant_memory mode: each row goes to disk once written, so memory
    stays flat however many lines; Chinese headers, yuan format, frozen header row."""
    book = xlsxwriter.Workbook(fh, {"constant_memory": True, "strings_to_numbers": False,
                                    "strings_to_formulas": False, "strings_to_urls": False})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    money = book.add_format({"num_format": "#,##0.00"})
    bold = book.add_format({"bold": True})
    bold_money = book.add_format({"bold": True, "num_format": "#,##0.00"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet = book.add_worksheet("发放明细")
    sheet.freeze_panes(1, 0)
    for col, width in enumerate(WIDTHS):
        sheet.set_column(col, col, width)
    sheet.write_row(0, 0, HEADERS, head)
    # One writer and format per column, chosen once: the loop below runs ~1M times.
    writers = [sheet.write_string] * len(HEADERS)
    formats = [None] * len(HEADERS)
    for col in ID_COLS:
        writers[col] = sheet.write_number
    writers[AMOUNT_COL], formats[AMOUNT_COL] = sheet.write_number, money
    writers[DATE_COL], formats[DATE_COL] = sheet.write_datetime, day
    total = None
    r = 0
    for item in rows:
        r += 1
        if isinstance(item, Subtotal):
            total = item
            for col, value in enumerate(subtotal_cells(item)):
                if col == AMOUNT_COL:
                    sheet.write_number(r, col, yuan(value), bold_money)
                elif value:
                    sheet.write_string(r, col, value, bold)
            continue
        cells = line_cells(item)
        cells[AMOUNT_COL] = yuan(cells[AMOUNT_COL])
        for col, value in enumerate(cells):
            if value is not None and value != "":
                writers[col](r, col, value, formats[col])
        on_line()
    _xlsx_summary(book, report, total or Subtotal.grand(), head, bold, money, bold_money)
    book.close()


def _xlsx_summary(book, report, total, head, bold, money, bold_money) -> None:
    sheet = book.add_worksheet("汇总")
    sheet.set_column(0, 0, 20)
    sheet.set_column(1, 1, 40)
    sheet.set_column(2, 2, 18)
    sheet.write_row(0, 0, ("项目", "笔数/说明", "金额（元）"), head)
    for r, (label, text, fen) in enumerate(summary_rows(report, total), start=1):
        last = label == "合计"
        sheet.write_string(r, 0, label, bold if last else None)
        sheet.write_string(r, 1, text)
        if fen is not None:
            sheet.write_number(r, 2, yuan(fen), bold_money if last else money)


def export(fmt: str, report: ReportScope, rows: Iterable, fh: BinaryIO,
           on_line: Callable[[], None] = no_progress) -> None:
    """Write the report in `fmt` ∈ csv | xlsx | pdf to the binary file `fh`."""
    if fmt == "csv":
        write_csv(report, rows, fh, on_line)
    elif fmt == "xlsx":
        write_xlsx(report, rows, fh, on_line)
    elif fmt == "pdf":
        from coop.reports.pdf_export import write_pdf
        write_pdf(report, rows, fh, on_line)
    else:
        raise ValueError(f"unknown report format {fmt!r}")
