"""The cooperative's papers: member roster and share register (xlsx, pdf), a member's
certificate (pdf) with the amount in Chinese capital numerals. PDFs are checked by
rasterizing a page (pdftoppm) and reading its text (pdftotext)."""
from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date

import pytest
from openpyxl import load_workbook
from PIL import Image

from coop.reports.documents import capital_numerals
from tests.distribution.builders import give_capital

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@pytest.mark.parametrize("fen, words", [
    (0, "零元整"),
    (5, "伍分"),
    (10, "壹角"),
    (50, "伍角"),
    (1_00, "壹元整"),
    (10_00, "壹拾元整"),
    (10_50, "壹拾元伍角"),
    (11_00, "壹拾壹元整"),
    (20_30, "贰拾元叁角"),
    (101_01, "壹佰零壹元零壹分"),
    (110_00, "壹佰壹拾元整"),
    (1001_00, "壹仟零壹元整"),
    (1010_00, "壹仟零壹拾元整"),
    (1680_32, "壹仟陆佰捌拾元叁角贰分"),
    (10000_01, "壹万元零壹分"),
    (12000_00, "壹万贰仟元整"),
    (100010_00, "壹拾万零壹拾元整"),
    (100000_09, "壹拾万元零玖分"),
    (1234567_89, "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
    (100000000_00, "壹亿元整"),
    (120000000_00, "壹亿贰仟万元整"),
])
def test_capital_numerals_on_their_edges(fen, words):
    assert capital_numerals(fen) == words


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_capital_numerals_refuse_what_is_not_an_amount(bad):
    with pytest.raises(ValueError):
        capital_numerals(bad)


@pytest.fixture
def register(db, make, world):
    coop = world.coop
    coop.name = "单县浮岗镇刘庄村富民种植专业合作社"
    collective = make.member(coop, name="刘庄村股份经济合作社", member_type="collective")
    farmers = [make.member(coop, name=n, phone="13912345678")
               for n in ("刘建国", "刘秀英", "张海燕", "王德胜", "李春生")]
    left = make.member(coop, name="赵文军", status="left", left_on=date(2023, 5, 1))
    give_capital(db.session, coop, {collective: 3_000_000, farmers[0]: 1_200_000,
                                    farmers[1]: 1_000_050, farmers[2]: 800_000,
                                    farmers[3]: 800_000, farmers[4]: 600_000})
    give_capital(db.session, coop, {farmers[4]: 150_000}, kind="land")
    db.session.commit()
    return coop, collective, farmers, left


def _pdftoppm(pdf: bytes, tmp_path, stem: str) -> Image.Image:
    assert shutil.which("pdftoppm"), "poppler-utils (pdftoppm) must be installed"
    source = tmp_path / f"{stem}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "72", "-f", "1", "-l", "1", "-png", str(source),
                    str(tmp_path / stem)], check=True, timeout=60)
    return Image.open(next(tmp_path.glob(f"{stem}*.png"))).convert("L")


def _ink(image: Image.Image) -> int:
    return sum(image.histogram()[:200])


def _pdftotext(pdf: bytes, tmp_path) -> str:
    source = tmp_path / "text.pdf"
    source.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(source), "-"], check=True,
                          capture_output=True, timeout=60).stdout.decode("utf-8")


def _renders_chinese(app, client, url, headers, tmp_path, monkeypatch, *expected) -> str:
    resp = client.get(url, headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert resp.headers["Content-Type"] == "application/pdf"
    pdf = resp.get_data()
    assert pdf.startswith(b"%PDF")
    page = _pdftoppm(pdf, tmp_path, "cjk")
    text = _pdftotext(pdf, tmp_path)
    for words in expected:
        assert words in text, text
    # The same page drawn with a font that has no Chinese glyphs has far less ink.
    monkeypatch.setitem(app.config, "REPORTS_PDF_FONT", DEJAVU)
    latin = _pdftoppm(client.get(url, headers=headers).get_data(), tmp_path, "latin")
    assert _ink(page) > 1.3 * _ink(latin)
    return text


def test_the_roster_pdf_renders_chinese(app, client, world, register, tmp_path, monkeypatch):
    coop, collective, farmers, left = register
    text = _renders_chinese(app, client, f"/api/v1/cooperatives/{coop.id}/member-roster"
                            "?format=pdf", world.reviewer, tmp_path, monkeypatch,
                            "成员名册", "刘建国", "刘庄村股份经济合作社", "已退社")
    assert "139****5678" in text and "13912345678" not in text


def test_the_roster_xlsx_lists_every_member_in_register_order(client, world, register):
    coop, collective, farmers, left = register
    resp = client.get(f"/api/v1/cooperatives/{coop.id}/member-roster?format=xlsx",
                      headers=world.manager)
    assert resp.status_code == 200
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(resp.get_data())).active
    rows = [r for r in sheet.iter_rows(values_only=True)]
    header = rows.index(next(r for r in rows if r and r[0] == "编号"))
    body = rows[header + 1:]
    assert [r[0] for r in body[:-1]] == ["001", "002", "003", "004", "005", "006", "007"]
    assert [r[1] for r in body[:-1]] == [collective.name, *(f.name for f in farmers),
                                         left.name]
    assert body[1][8] == 12_000 and body[-1][8] == 75_500.50
    assert all("*" in r[3] for r in body[:-1])          # ID numbers masked


def test_the_share_register_document_as_of_a_date(client, world, register, tmp_path, app,
                                                  monkeypatch):
    coop, collective, farmers, left = register
    url = f"/api/v1/cooperatives/{coop.id}/share-register/document"
    sheet = load_workbook(io.BytesIO(client.get(url + "?format=xlsx&as_of=2024-01-01",
                                                headers=world.manager).get_data())).active
    rows = [r for r in sheet.iter_rows(values_only=True) if r and (r[0] or r[1])]
    total = next(r for r in rows if r[1] == "合计")
    assert total[7] == 75_500.50 and total[8] == "100.00%"
    first = next(r for r in rows if r[1] == "刘建国")
    assert first[0] == "002" and first[2] == 12_000 and first[8] == "15.89%"
    before = load_workbook(io.BytesIO(client.get(url + "?format=xlsx&as_of=2019-01-01",
                                                 headers=world.manager).get_data())).active
    assert not [r for r in before.iter_rows(values_only=True) if r and r[1] == "刘建国"]
    _renders_chinese(app, client, url + "?format=pdf", world.manager, tmp_path, monkeypatch,
                     "股权登记簿", "刘建国", "土地经营权")


def test_a_members_certificate_says_the_amount_in_capital_numerals(app, client, make, world,
                                                                  register, tmp_path,
                                                                  monkeypatch):
    coop, collective, farmers, left = register
    _, member_headers = make.login("member", farmers[0])
    url = f"/api/v1/members/{farmers[0].id}/certificate"
    text = _renders_chinese(app, client, url, member_headers, tmp_path, monkeypatch,
                            "出资证明书", "刘建国", "壹万贰仟元整", "12,000.00")
    assert coop.credit_code in text
    # another member of the cooperative, and another county, do not get it
    _, other = make.login("member", farmers[1])
    assert client.get(url, headers=other).status_code == 404
    assert client.get(url, headers=world.manager_foreign).status_code == 404
    assert client.get(url, headers=world.reviewer).status_code == 200


def test_documents_are_scoped_as_the_register(client, world, register):
    coop = register[0]
    for path in ("member-roster", "share-register/document"):
        url = f"/api/v1/cooperatives/{coop.id}/{path}"
        assert client.get(url, headers=world.manager_other).status_code == 404
        assert client.get(url, headers=world.manager_foreign).status_code == 404
        assert client.get(url + "?format=doc", headers=world.manager).status_code == 422


def test_no_cjk_font_is_a_clear_503(app, client, world, register, monkeypatch):
    monkeypatch.setitem(app.config, "REPORTS_PDF_FONT", "/nonexistent/font.ttc")
    resp = client.get(f"/api/v1/members/{register[2][0].id}/certificate", headers=world.manager)
    assert resp.status_code == 503 and resp.json["code"] == "PDF_FONT_MISSING"
