"""The report files: csv and xlsx add up to the database; the PDF renders Chinese."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
import zipfile
from collections import Counter
from decimal import Decimal
from urllib.parse import unquote

import openpyxl
import pytest
from PIL import Image
from sqlalchemy import select

from coop.money import parse_yuan
from coop.payouts.models import PayoutLine
from coop.registry.models import Cooperative
from coop.reports import pdf_export
from tests.reports.builders import YEAR, db_line_sum

URL = "/api/v1/reports/payouts"
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _get(client, headers, world, fmt, scope="county", obj=None):
    obj = obj or world.county
    resp = client.get(URL, query_string={"scope": scope, "id": obj.id, "year": YEAR,
                                         "format": fmt}, headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return resp


def _fen_of_cell(value) -> int:
    """A yuan cell read back by openpyxl → exact fen (the XML holds the decimal text)."""
    return int(Decimal(str(value)) * 100)


def _coop_sums(session, county_id):
    names = dict(session.execute(select(Cooperative.id, Cooperative.name)).all())
    sums = Counter()
    for line in session.execute(select(PayoutLine).where(
            PayoutLine.county_id == county_id, PayoutLine.year == YEAR)).scalars():
        sums[names[line.cooperative_id]] += line.amount_fen
    return sums


def test_csv_is_utf8_with_bom_and_adds_up_to_the_database(client, db, world, finance_headers):
    resp = _get(client, finance_headers, world, "csv")
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    raw = resp.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    header, body = rows[0], rows[1:]
    assert header[0] == "类别" and "金额（元）" in header and "银行流水号" in header
    amount = header.index("金额（元）")
    lines = [r for r in body if r[0] == "明细"]
    count, total = db_line_sum(db.session, county_id=world.county.id, year=YEAR)
    assert len(lines) == count
    assert sum(parse_yuan(r[amount]) for r in lines) == total
    assert [parse_yuan(r[amount]) for r in body if r[0] == "合计"] == [total]
    coop_subtotals = {r[2]: parse_yuan(r[amount]) for r in body if r[0] == "合作社小计"}
    assert coop_subtotals == _coop_sums(db.session, world.county.id)


def test_xlsx_has_chinese_headers_yuan_format_frozen_header_and_db_totals(
        client, db, world, finance_headers):
    resp = _get(client, finance_headers, world, "xlsx")
    assert resp.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(resp.get_data()))
    sheet = book["发放明细"]
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["类别", "乡镇（街道）", "合作社", "资金来源"]
    amount = header.index("金额（元）") + 1
    rows = list(sheet.iter_rows(min_row=2))
    lines = [r for r in rows if r[0].value == "明细"]
    assert all(r[amount - 1].number_format == "#,##0.00" for r in lines)
    count, total = db_line_sum(db.session, county_id=world.county.id, year=YEAR)
    assert len(lines) == count
    assert sum(_fen_of_cell(r[amount - 1].value) for r in lines) == total
    totals = [_fen_of_cell(r[amount - 1].value) for r in rows if r[0].value == "合计"]
    assert totals == [total]
    coop_subtotals = {r[2].value: _fen_of_cell(r[amount - 1].value)
                      for r in rows if r[0].value == "合作社小计"}
    assert coop_subtotals == _coop_sums(db.session, world.county.id)
    summary = {r[0].value: r[2].value for r in book["汇总"].iter_rows(min_row=2)}
    assert _fen_of_cell(summary["合计"]) == total


def test_xlsx_stores_the_exact_decimal_text_of_each_amount(client, world, finance_headers):
    resp = _get(client, finance_headers, world, "xlsx")
    sheet_xml = zipfile.ZipFile(io.BytesIO(resp.get_data())).read("xl/worksheets/sheet1.xml")
    # 7 fen and 99,999,999 fen are lines of the world: no float noise like 0.07000000000000001
    assert b"<v>0.07</v>" in sheet_xml and b"<v>999999.99</v>" in sheet_xml
    assert b"0000000001<" not in sheet_xml


def test_downloads_name_the_file_in_chinese_with_an_ascii_fallback(client, world,
                                                                  finance_headers):
    resp = _get(client, finance_headers, world, "csv", "town", world.towns[1])
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=\"payouts-")
    assert disposition.encode("latin-1")  # the header itself is plain ASCII
    utf8_name = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(utf8_name) == f"黄岗镇_{YEAR}年发放报表.csv"
    assert "no-store" in resp.headers["Cache-Control"]


def _pdftoppm(pdf: bytes, tmp_path, stem: str) -> Image.Image:
    assert shutil.which("pdftoppm"), "poppler-utils (pdftoppm) must be installed"
    source = tmp_path / f"{stem}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "72", "-f", "1", "-l", "1", "-png", str(source),
                    str(tmp_path / stem)], check=True, timeout=60)
    return Image.open(next(tmp_path.glob(f"{stem}*.png"))).convert("L")


def _ink(image: Image.Image) -> int:
    """Pixels clearly darker than white."""
    return sum(image.histogram()[:200])


def _pdftotext(pdf: bytes, tmp_path) -> str:
    source = tmp_path / "text.pdf"
    source.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(source), "-"], check=True,
                          capture_output=True, timeout=60).stdout.decode("utf-8")


def test_pdf_renders_the_chinese_text(app, client, db, world, finance_headers, tmp_path,
                                      monkeypatch):
    resp = _get(client, finance_headers, world, "pdf")
    assert resp.headers["Content-Type"] == "application/pdf"
    pdf = resp.get_data()
    assert pdf.startswith(b"%PDF")
    page = _pdftoppm(pdf, tmp_path, "cjk")
    assert _ink(page) > 0, "the first page is blank"
    text = _pdftotext(pdf, tmp_path)
    payee = world.members[world.coops[0].id][0].name
    assert "单县 2024年 发放报表" in text and "终兴镇" in text and payee in text
    # The same report with a font that has no Chinese glyphs draws far less.
    monkeypatch.setitem(app.config, "REPORTS_PDF_FONT", DEJAVU)
    without = _pdftoppm(_get(client, finance_headers, world, "pdf").get_data(), tmp_path,
                        "latin")
    assert _ink(page) > 1.3 * _ink(without)


def test_pdf_without_a_cjk_font_is_a_clear_503(app, client, world, finance_headers,
                                               monkeypatch):
    monkeypatch.setitem(app.config, "REPORTS_PDF_FONT", "/nonexistent/font.ttc")
    resp = client.get(URL, query_string={"scope": "county", "id": world.county.id,
                                         "year": YEAR, "format": "pdf"},
                      headers=finance_headers)
    assert resp.status_code == 503
    assert resp.json["code"] == "PDF_FONT_MISSING"


def test_font_lookup_explains_what_to_install_when_nothing_is_found(monkeypatch):
    monkeypatch.setattr(pdf_export, "FALLBACK_FONTS", ())
    monkeypatch.setattr(pdf_export, "_fontconfig_zh", lambda: None)
    with pytest.raises(pdf_export.CJKFontMissing, match="fonts-noto-cjk"):
        pdf_export.find_cjk_font(None)


def test_font_lookup_picks_the_simplified_chinese_face_of_a_collection():
    from fontTools.ttLib import TTCollection
    choice = pdf_export.find_cjk_font(None)
    if choice.path.lower().endswith(".ttc"):
        family = TTCollection(choice.path, lazy=True).fonts[choice.index]["name"]
        name = family.getDebugName(1)
        assert name.endswith(" SC") or "GB" in name or "Hei" in name, name
    assert pdf_export.find_cjk_font(choice.path) == choice
