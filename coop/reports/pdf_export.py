"""The payout report as PDF (fpdf2), with a CJK font embedded (subset) so Chinese renders.

The font is found, in order: the `REPORTS_PDF_FONT` setting (app config, else the
environment) — a .ttf/.otf/.ttc path; the usual Debian/Ubuntu/Fedora/Arch paths of Noto
CJK, WenQuanYi and AR PL; then `fc-list :lang=zh-cn`. In a .ttc the Simplified Chinese
face is chosen by name. Nothing found → `CJKFontMissing`, whose message says what to
install (Debian: `apt-get install fonts-noto-cjk`).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from typing import BinaryIO, Callable, Iterable

from fpdf import FPDF

from coop.money import format_yuan
from coop.reports.layout import COUNTY_LEVEL, SUBTOTAL_LABELS, no_progress, summary_rows
from coop.reports.payouts_report import (SOURCE_LABELS, STATUS_LABELS, ReportScope,
                                         Subtotal)

FONT_SETTING = "REPORTS_PDF_FONT"
FALLBACK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",      # Debian/Ubuntu fonts-noto-cjk
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",           # Arch noto-fonts-cjk
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",    # Fedora
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",                # fonts-wqy-zenhei
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",              # fonts-wqy-microhei
    "/usr/share/fonts/truetype/arphic/uming.ttc",                  # fonts-arphic-uming
)
# (header, width mm, how to read the cell) — landscape A4 leaves 277 mm between margins.
COLUMNS = (
    ("乡镇", 24), ("合作社", 42), ("来源", 18), ("收款人", 30), ("账号", 34),
    ("金额（元）", 30), ("状态", 16), ("银行流水号", 40), ("支付日期", 22), ("明细号", 21),
)
TABLE_MM = sum(width for _, width in COLUMNS)
ROW_MM = 5.5
FONT_PT = 7.5
PAGES_ALIAS = "{pages_total}"  # long enough to hold a four-digit page count


class CJKFontMissing(RuntimeError):
    """No font able to render Chinese could be found."""


@dataclass(frozen=True)
class FontChoice:
    path: str
    index: int = 0


def configured_font_path() -> str | None:
    from flask import current_app, has_app_context
    if has_app_context() and current_app.config.get(FONT_SETTING):
        return current_app.config[FONT_SETTING]
    return os.environ.get(FONT_SETTING) or None


def find_cjk_font(configured: str | None = None) -> FontChoice:
    """The font to embed; `configured` (a path) wins and must exist."""
    if configured:
        if not os.path.isfile(configured):
            raise CJKFontMissing(f"{FONT_SETTING}={configured} 不存在或不是字体文件")
        return FontChoice(configured, _simplified_face(configured))
    for path in FALLBACK_FONTS:
        if os.path.isfile(path):
            return FontChoice(path, _simplified_face(path))
    found = _fontconfig_zh()
    if found is not None:
        return found
    raise CJKFontMissing(
        "未找到可显示中文的字体：请安装 fonts-noto-cjk（Debian/Ubuntu: apt-get install "
        f"fonts-noto-cjk），或将 {FONT_SETTING} 设为 .ttf/.otf/.ttc 字体文件路径")


@lru_cache(maxsize=8)
def _simplified_face(path: str) -> int:
    """Index of the Simplified Chinese face in a collection (0 for a single font)."""
    if not path.lower().endswith(".ttc"):
        return 0
    from fontTools.ttLib import TTCollection
    try:
        collection = TTCollection(path, lazy=True)
    except Exception:  # unreadable collection: let fpdf2 report it with the first face
        return 0
    for index, font in enumerate(collection.fonts):
        family = font["name"].getDebugName(1) or ""
        if family.endswith(" SC") or "GB" in family or "Hei" in family:
            return index
    return 0


def _fontconfig_zh() -> FontChoice | None:
    if shutil.which("fc-list") is None:
        return None
    try:
        out = subprocess.run(["fc-list", ":lang=zh-cn", "-f", "%{file}|%{index}\n"],
                             capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in sorted(out.splitlines()):
        path, _, index = line.partition("|")
        if path.lower().endswith((".ttf", ".otf", ".ttc")) and os.path.isfile(path):
            return FontChoice(path, int(index or 0))
    return None


class _ReportPDF(FPDF):
    """Table rows are drawn with `text()` and lines rather than `cell()`: a county report
    has ~750,000 cells, and `cell()` (layout, shaping, markdown) costs ~10× more each."""

    def __init__(self, title: str, font: FontChoice):
        super().__init__(orientation="L", unit="mm", format="A4")
        self.report_title = title
        self.add_font("cjk", fname=font.path, collection_font_number=font.index)
        self.set_auto_page_break(auto=False)
        self.set_margins(10, 10, 10)
        self.alias_nb_pages(PAGES_ALIAS)
        self.column_header = True
        self.table_top = None
        self.amount_col = [title for title, _ in COLUMNS].index("金额（元）")

    def header(self):
        self.set_font("cjk", size=12)
        self.cell(0, 8, self.report_title, new_x="LMARGIN", new_y="NEXT")
        self.set_font("cjk", size=FONT_PT)
        if not self.column_header:
            return
        self.set_fill_color(221, 235, 247)
        for title, width in COLUMNS:
            self.cell(width, ROW_MM, title, border=1, fill=True, align="C")
        self.ln(ROW_MM)
        self.table_top = self.get_y()

    def footer(self):
        self.close_grid()
        self.set_y(-10)
        self.set_font("cjk", size=FONT_PT)
        self.cell(0, 5, f"第 {self.page_no()} 页 / 共 {PAGES_ALIAS} 页", align="C")

    def close_grid(self) -> None:
        """The table's vertical rules on this page, drawn once from top to last row."""
        if self.table_top is None or self.get_y() <= self.table_top:
            return
        x = self.l_margin
        for _, width in ((None, 0),) + COLUMNS:
            x += width
            self.line(x, self.table_top, x, self.get_y())
        self.table_top = None

    def row(self, cells, bold: bool = False) -> None:
        if self.get_y() + ROW_MM > self.h - 14:
            self.add_page()
        y = self.get_y()
        if bold:
            self.set_fill_color(242, 242, 242)
            self.rect(self.l_margin, y, TABLE_MM, ROW_MM, style="F")
            self.line(self.l_margin, y, self.l_margin + TABLE_MM, y)  # the fill hid it
        x = self.l_margin
        baseline = y + ROW_MM - 1.7
        for col, ((_, width), value) in enumerate(zip(COLUMNS, cells)):
            text = _fit(value, width)
            if text:
                if col == self.amount_col:
                    self.text(x + width - 1 - self.get_string_width(text), baseline, text)
                else:
                    self.text(x + 1, baseline, text)
            x += width
        self.line(self.l_margin, y + ROW_MM, self.l_margin + TABLE_MM, y + ROW_MM)
        self.set_y(y + ROW_MM)


def _fit(text, width_mm: float) -> str:
    """Cut text to roughly what fits (a CJK glyph at 7.5 pt is ~2.65 mm wide)."""
    text = "" if text is None else str(text)
    limit = max(1, int(width_mm / 2.7))
    wide = sum(1 for ch in text if ord(ch) > 0x2E7F)
    if wide + (len(text) - wide) / 2 <= limit:
        return text
    return text[: max(1, limit - 1)] + "…"


def _line_cells(row) -> list:
    return [row.town_name or COUNTY_LEVEL, row.cooperative_name or "",
            SOURCE_LABELS.get(row.source, row.source), row.payee_name,
            row.bank_account_masked or "", format_yuan(int(row.amount_fen), thousands=True),
            STATUS_LABELS.get(row.status, row.status), row.bank_ref or "",
            row.paid_on.isoformat() if row.paid_on else "", row.id]


def _subtotal_cells(sub: Subtotal) -> list:
    town = "" if sub.level == "total" else (sub.town_name or COUNTY_LEVEL)
    coop = sub.cooperative_name or "" if sub.level == "cooperative" else ""
    return [town, coop, SUBTOTAL_LABELS[sub.level], f"共{sub.line_count}笔", "",
            format_yuan(sub.total_fen, thousands=True), "", "", "", ""]


def write_pdf(report: ReportScope, rows: Iterable, fh: BinaryIO,
              on_line: Callable[[], None] = no_progress) -> None:
    """Landscape A4, the header repeated on each page, subtotals in grey, a summary page."""
    pdf = _ReportPDF(report.title, find_cjk_font(configured_font_path()))
    pdf.add_page()
    total = Subtotal.grand()
    for item in rows:
        if isinstance(item, Subtotal):
            pdf.row(_subtotal_cells(item), bold=True)
            if item.level == "total":
                total = item
            continue
        pdf.row(_line_cells(item))
        on_line()
    pdf.close_grid()
    pdf.column_header = False
    pdf.add_page()
    pdf.set_font("cjk", size=10)
    for label, text, fen in summary_rows(report, total):
        pdf.cell(60, 7, label, border=1)
        pdf.cell(120, 7, text, border=1)
        pdf.cell(50, 7, "" if fen is None else format_yuan(fen, thousands=True), border=1,
                 align="R", new_x="LMARGIN", new_y="NEXT")
    fh.write(pdf.output())
