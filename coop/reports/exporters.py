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

from typing import BinaryIO, Callable, Iterable

import xlsxwriter

import coop.csvfile as csvfile
from coop.money import format_yuan
from coop.reports.layout import (AMOUNT_COL, DATE_COL, HEADERS, ID_COLS, WIDTHS, line_cells,
                                 no_progress, subtotal_cells, summary_rows, yuan)
from coop.reports.figures import figure_rows
from coop.reports.payouts_report import MONEY_LABELS, ReportScope, Subtotal
from coop.reports.pdf_export import write_pdf

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
def write_csv(report: ReportScope, rows: Iterable, fh: BinaryIO,
              on_line: Callable[[], None] = no_progress) -> None:
    """UTF-8 with BOM (so Excel opens it as UTF-8), amounts as exact yuan text; names,
    bank names and refs pass the one CSV writer's formula neutralisation."""
    with csvfile.writer(fh) as writer:
        writer.writerow(HEADERS)
        for item in rows:
            is_line = not isinstance(item, Subtotal)
            cells = line_cells(item) if is_line else subtotal_cells(item)
            cells[AMOUNT_COL] = format_yuan(cells[AMOUNT_COL])
            writer.writerow(cells)
            if is_line:
                on_line()
            elif item.level == "total" and item.money is not None:
                # The figures a batch shows, each meaning one thing (a re-issued line
                # once, 实发 net of reversals): 合计 above is only the lines listed.
                for name, label in MONEY_LABELS.items():
                    money_cells = [""] * len(HEADERS)
                    money_cells[0], money_cells[AMOUNT_COL] = label, format_yuan(item.money[name])
                    writer.writerow(money_cells)


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
    if report.figures is not None:
        _xlsx_figures(book, report.figures, head, money)
    book.close()


def _xlsx_figures(book, figures: dict, head, money) -> None:
    """The county's published figures (coop/reports/figures.py), as the dashboard shows
    them: the county report and the dashboard never disagree."""
    sheet = book.add_worksheet("年度数字")
    sheet.set_column(0, 0, 32)
    sheet.set_column(1, 1, 18)
    sheet.write_row(0, 0, ("项目", "数值"), head)
    for r, (label, value, kind) in enumerate(figure_rows(figures), start=1):
        sheet.write_string(r, 0, label)
        if value is None:
            continue
        if kind == "fen":
            sheet.write_number(r, 1, yuan(value), money)
        elif kind == "count":
            sheet.write_number(r, 1, value)
        else:
            sheet.write_string(r, 1, str(value))


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
        write_pdf(report, rows, fh, on_line)
    else:
        raise ValueError(f"unknown report format {fmt!r}")
