"""The cooperative's papers: the member roster (成员名册), the share register (股权登记簿)
as xlsx or PDF, and a member's certificate of contribution (出资证明书) as PDF.

What they print: the member's number on the register (成员编号, coop/registry/numbering.py),
names in full (these are the cooperative's own records, read by those who may read the
register), ID-card numbers and phones masked as in every response, amounts in yuan from
integer fen, and on the certificate the total also in Chinese capital numerals (cn2an's
"rmb" mode: 壹万贰仟元整, 壹拾元伍角, 壹拾万元零玖分 — tests/onboarding/test_documents.py
holds it to a table of amounts). The PDFs embed the CJK font the payout report finds
(coop/reports/pdf_export.py); none on the server → 503 PDF_FONT_MISSING.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import cn2an
import xlsxwriter
from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import Session

import coop.clock as clock
from coop.crypto import mask_phone
from coop.money import format_yuan
from coop.places.models import Village
from coop.registry.models import Cooperative, Member
from coop.registry.numbering import display, register_number, register_numbers
from coop.reports.pdf_export import configured_font_path, find_cjk_font
from coop.shares.models import KINDS, ShareBalance
from coop.shares.register import member_holding_as_of, register_as_of

KIND_LABELS = {"cash": "货币", "land": "土地经营权", "collective_asset": "集体资产",
               "fiscal_subsidy": "财政补助量化", "labour": "劳务"}
TYPE_LABELS = {"farmer": "农民", "collective": "村集体经济组织", "enterprise": "企业",
               "other": "其他"}
STATUS_LABELS = {"active": "在册", "former": "在册（无出资）", "left": "已退社"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def capital_numerals(fen: int) -> str:
    """An amount of fen in Chinese capital numerals (大写金额), as on a bank slip."""
    if not isinstance(fen, int) or isinstance(fen, bool) or fen < 0:
        raise ValueError("fen must be a non-negative int")
    return cn2an.an2cn(str(Decimal(fen).scaleb(-2)), "rmb")


@dataclass
class Table:
    """A document's content, whatever the format: a title, lines of context under it,
    columns (header, width in mm for the PDF, is it an amount in fen), rows, a total."""
    title: str
    subtitle: list[str]
    columns: list[tuple[str, float, bool]]
    rows: list[list]
    total: list | None
    sheet: str
    file_stem: str


def _yuan(fen: int) -> str:
    return format_yuan(int(fen), thousands=True)


def roster(session: Session, coop: Cooperative) -> Table:
    """成员名册 (Farmers' Professional Cooperatives Law, Art. 15): every member ever entered,
    in register order, with what each holds today."""
    village = session.get(Village, coop.village_id)
    numbers = register_numbers(session, coop.id)
    held = dict(session.execute(select(ShareBalance.member_id, ShareBalance.total_fen)
                                .where(ShareBalance.cooperative_id == coop.id)).all())
    members = session.execute(select(Member).where(Member.cooperative_id == coop.id)
                              .order_by(Member.id)).scalars()
    rows = [[display(numbers[m.id]), m.name, TYPE_LABELS.get(m.member_type, m.member_type),
             m.id_card_masked, mask_phone(m.phone) or "", m.joined_on.isoformat(),
             m.left_on.isoformat() if m.left_on else "",
             STATUS_LABELS.get(m.status, m.status), int(held.get(m.id) or 0)]
            for m in members]
    today = clock.today()
    return Table(
        title=f"{coop.name} 成员名册",
        subtitle=[f"统一社会信用代码：{coop.credit_code}　所在村：{village.name}",
                  f"截至 {today.isoformat()}，共 {len(rows)} 名成员"
                  f"（在册 {sum(1 for r in rows if r[7] != '已退社')} 名）；出资额单位：元"],
        columns=[("编号", 12, False), ("姓名或名称", 40, False), ("成员类型", 26, False),
                 ("身份证号或信用代码", 40, False), ("手机号", 24, False), ("入社日期", 22, False),
                 ("退社日期", 22, False), ("状态", 22, False), ("出资额（元）", 32, True)],
        rows=rows, total=["", "合计", "", "", "", "", "", "", sum(r[8] for r in rows)],
        sheet="成员名册", file_stem=f"{coop.name}_成员名册_{today.isoformat()}")


def share_register(session: Session, coop: Cooperative, as_of: date) -> Table:
    """股权登记簿 on `as_of`: every member holding capital, by kind, total and ratio."""
    register = register_as_of(session, coop, as_of)
    numbers = register_numbers(session, coop.id)
    rows = [[display(numbers[m["member_id"]]), m["name"],
             *(m["by_kind"][kind] for kind in KINDS), m["total_fen"],
             f"{Decimal(m['ratio']) * 100:.2f}%"] for m in register["members"]]
    totals = [sum(r[2 + i] for r in rows) for i in range(len(KINDS))]
    return Table(
        title=f"{coop.name} 股权登记簿",
        subtitle=[f"统一社会信用代码：{coop.credit_code}",
                  f"登记日期：截至 {as_of.isoformat()}；持股成员 {len(rows)} 名；"
                  f"股金总额 {_yuan(register['total_fen'])} 元；金额单位：元"],
        columns=[("编号", 12, False), ("成员", 40, False),
                 *((KIND_LABELS[kind], 30, True) for kind in KINDS), ("合计", 34, True),
                 ("占比", 20, False)],
        rows=rows, total=["", "合计", *totals, register["total_fen"],
                          "100.00%" if rows else ""],
        sheet="股权登记簿", file_stem=f"{coop.name}_股权登记簿_{as_of.isoformat()}")


def write_xlsx(table: Table) -> bytes:
    """One sheet: title, context lines, a frozen header row, amounts as exact yuan numbers."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False,
                                     "strings_to_formulas": False, "strings_to_urls": False})
    title = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    money = book.add_format({"num_format": "#,##0.00"})
    bold = book.add_format({"bold": True})
    bold_money = book.add_format({"bold": True, "num_format": "#,##0.00"})
    sheet = book.add_worksheet(table.sheet)
    sheet.write_string(0, 0, table.title, title)
    for offset, line in enumerate(table.subtitle, start=1):
        sheet.write_string(offset, 0, line)
    top = len(table.subtitle) + 2
    for col, (header, width, _) in enumerate(table.columns):
        sheet.set_column(col, col, max(8, width * 0.6))
        sheet.write_string(top, col, header, head)
    sheet.freeze_panes(top + 1, 0)
    rows = table.rows + ([table.total] if table.total else [])
    for r, cells in enumerate(rows, start=top + 1):
        is_total = table.total is not None and r == top + len(rows)
        for col, ((_, _, amount), value) in enumerate(zip(table.columns, cells)):
            if amount:
                sheet.write_number(r, col, Decimal(int(value)).scaleb(-2),
                                   bold_money if is_total else money)
            elif value != "":
                sheet.write_string(r, col, str(value), bold if is_total else None)
    book.close()
    return out.getvalue()


class _DocumentPDF(FPDF):
    def __init__(self, orientation: str = "P"):
        super().__init__(orientation=orientation, unit="mm", format="A4")
        font = find_cjk_font(configured_font_path())
        self.add_font("cjk", fname=font.path, collection_font_number=font.index)
        self.set_margins(12, 12, 12)
        self.alias_nb_pages("{nb}")

    def footer(self):
        self.set_y(-10)
        self.set_font("cjk", size=8)
        self.cell(0, 5, f"第 {self.page_no()} 页 / 共 {{nb}} 页", align="C")


ROW_MM = 6.5


def _fit(pdf: FPDF, text: str, width: float) -> str:
    if pdf.get_string_width(text) <= width - 2:
        return text
    while text and pdf.get_string_width(text + "…") > width - 2:
        text = text[:-1]
    return text + "…"


def write_pdf(table: Table) -> bytes:
    """Landscape A4 when the columns need it; the header row repeats on every page."""
    width = sum(w for _, w, _ in table.columns)
    pdf = _DocumentPDF("L" if width > 186 else "P")
    scale = min(1.0, (pdf.w - 24) / width)
    columns = [(h, w * scale, a) for h, w, a in table.columns]
    pdf.add_page()

    def header():
        pdf.set_font("cjk", size=9)
        pdf.set_fill_color(221, 235, 247)
        for text, w, _ in columns:
            pdf.cell(w, ROW_MM, text, border=1, fill=True, align="C")
        pdf.ln(ROW_MM)

    pdf.set_font("cjk", size=15)
    pdf.cell(0, 9, table.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    for line in table.subtitle:
        pdf.cell(0, 5.5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    header()
    rows = table.rows + ([table.total] if table.total else [])
    for index, cells in enumerate(rows):
        if pdf.get_y() + ROW_MM > pdf.h - 14:
            pdf.add_page()
            header()
        is_total = table.total is not None and index == len(rows) - 1
        y, x = pdf.get_y(), pdf.l_margin
        if is_total:
            pdf.set_fill_color(242, 242, 242)
            pdf.rect(x, y, sum(w for _, w, _ in columns), ROW_MM, style="F")
        for (_, w, amount), value in zip(columns, cells):
            text = _yuan(value) if amount else str(value)
            text = _fit(pdf, text, w)
            offset = w - 1 - pdf.get_string_width(text) if amount else 1
            pdf.text(x + offset, y + ROW_MM - 1.9, text)
            pdf.rect(x, y, w, ROW_MM)
            x += w
        pdf.set_y(y + ROW_MM)
    return bytes(pdf.output())


def certificate(session: Session, member: Member, as_of: date) -> tuple[bytes, str]:
    """出资证明书 of one member on `as_of`: (PDF bytes, file stem)."""
    coop = session.get(Cooperative, member.cooperative_id)
    held = member_holding_as_of(session, member.id, as_of)
    total = sum(held.values())
    number = display(register_number(session, member))
    pdf = _DocumentPDF("P")
    pdf.add_page()
    pdf.set_line_width(0.8)
    pdf.set_draw_color(178, 34, 34)
    pdf.rect(10, 10, pdf.w - 20, 178)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.set_y(18)
    pdf.set_font("cjk", size=20)
    pdf.cell(0, 12, "出 资 证 明 书", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    pdf.cell(0, 6, f"（股金证）　编号：{coop.id}-{number}", align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("cjk", size=11)
    facts = [("合作社名称", coop.name), ("统一社会信用代码", coop.credit_code),
             ("成员姓名或名称", member.name), ("成员编号", number),
             ("身份证号或信用代码", member.id_card_masked),
             ("入社日期", member.joined_on.isoformat())]
    for label, value in facts:
        pdf.set_x(22)
        pdf.cell(48, 8, label + "：")
        pdf.cell(0, 8, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_x(22)
    pdf.set_font("cjk", size=10)
    pdf.set_fill_color(245, 240, 230)
    pdf.cell(70, 7, "出资方式", border=1, fill=True, align="C")
    pdf.cell(60, 7, "金额（元）", border=1, fill=True, align="C", new_x="LMARGIN", new_y="NEXT")
    for kind in KINDS:
        if held[kind]:
            pdf.set_x(22)
            pdf.cell(70, 7, KIND_LABELS[kind], border=1, align="C")
            pdf.cell(60, 7, _yuan(held[kind]), border=1, align="R",
                     new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(22)
    pdf.cell(70, 7, "合计", border=1, align="C")
    pdf.cell(60, 7, _yuan(total), border=1, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_x(22)
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 8, f"出资总额（大写）：人民币{capital_numerals(total)}",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("cjk", size=9)
    pdf.set_x(22)
    pdf.multi_cell(pdf.w - 44, 5.5,
                   f"兹证明上述成员截至{as_of.year}年{as_of.month}月{as_of.day}日在本社的出资情况"
                   "如上，以本社股权登记簿为准。本证明书不得转让、抵押；成员出资变动时，以重新出具"
                   "的证明书为准。", align="L")
    pdf.ln(6)
    pdf.set_font("cjk", size=11)
    pdf.set_x(110)
    pdf.cell(0, 7, f"{coop.name}（盖章）", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(110)
    issued = clock.today()
    pdf.cell(0, 7, f"{issued.year}年{issued.month}月{issued.day}日", new_x="LMARGIN",
             new_y="NEXT")
    return bytes(pdf.output()), f"{coop.name}_{member.name}_出资证明书_{as_of.isoformat()}"
