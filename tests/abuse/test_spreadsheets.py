"""Every spreadsheet upload goes through one bounded reader (issue 20, item 5): rows
read, cells, inflated size and time. A 300 KB .xlsx of two million empty rows held a
worker 61 s (past gunicorn's timeout); the trades import had no inflation cap at all."""
from __future__ import annotations

import io
import re
import time
import zipfile

import openpyxl
import pytest

import coop.spreadsheets as spreadsheets
from coop.errors import TooLarge, ValidationFailed

MEMBER_HEADER = ("姓名", "身份证号", "成员类型", "入社日期")
TRADE_HEADER = ("成员ID", "金额(元)", "日期")


def _xlsx(header, rows=(), *, empty_rows: int = 0, padding: int = 0, every: int = 0) -> bytes:
    """An .xlsx whose first sheet has `header`, `rows`, then `empty_rows` empty <row>
    elements (what a formatted-but-empty range leaves; with `every`, one of them in
    `every` holds a cell), and `padding` bytes of whitespace inside the sheet XML (a
    part that inflates far past its size)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    if not empty_rows and not padding:
        return buffer.getvalue()
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                first = len(rows) + 2
                blank = "".join(
                    f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>x</t></is></c></row>'
                    if every and n % every == 0 else f'<row r="{n}"/>'
                    for n in range(first, first + empty_rows))
                data = data.replace(b"</sheetData>", blank.encode() + b" " * padding
                                    + b"</sheetData>")
                # The sheet's declared range covers them, as Excel writes it.
                data = re.sub(rb'<dimension ref="[^"]*"\s*/>',
                              f'<dimension ref="A1:Z{first + empty_rows}"/>'.encode(), data)
            target.writestr(info, data)
    return out.getvalue()


@pytest.fixture
def manager(db, make):
    coop = make.cooperative()
    return coop, make.login("coop_manager", coop)[1]


def _upload(client, url, headers, name, data):
    return client.post(url, headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), name)})


def _targets(coop):
    return {"members": (f"/api/v1/cooperatives/{coop.id}/members/import", MEMBER_HEADER),
            "trades": (f"/api/v1/cooperatives/{coop.id}/years/2024/trades", TRADE_HEADER)}


@pytest.mark.parametrize("every", [0, 500])
@pytest.mark.parametrize("target", ["members", "trades"])
def test_hundreds_of_thousands_of_empty_rows_are_refused_in_seconds(client, manager, target,
                                                                    every):
    coop, headers = manager
    url, header = _targets(coop)[target]
    # every=0: a blank tail (the sheet ends after a run of blank rows, then "no data");
    # every=500: a cell now and then, so only the bound on rows read stops it (413).
    data = _xlsx(header, empty_rows=400_000, every=every)
    assert len(data) < 5 * 1024 * 1024
    started = time.monotonic()
    response = _upload(client, url, headers, "bomb.xlsx", data)
    elapsed = time.monotonic() - started
    assert response.status_code == (413 if every else 422), response.get_json()
    assert response.mimetype == "application/problem+json"
    assert elapsed < 20, elapsed


@pytest.mark.parametrize("target", ["members", "trades"])
def test_a_part_inflating_past_the_cap_is_413_before_parsing(client, manager, target):
    coop, headers = manager
    url, header = _targets(coop)[target]
    data = _xlsx(header, padding=20 * 1024 * 1024)  # ~20 KB on the wire
    assert len(data) < 200_000
    response = _upload(client, url, headers, "zip.xlsx", data)
    assert response.status_code == 413, response.get_json()
    assert response.get_json()["code"] == "PAYLOAD_TOO_LARGE"


def test_rows_past_the_bound_are_413():
    bounds = spreadsheets.Bounds(max_bytes=10**7, max_rows=10, slack=5, blank_run=1000)
    csv = ("a,b\n" + "x,1\n" * 16).encode()
    with pytest.raises(TooLarge):
        list(spreadsheets.rows("t.csv", csv, bounds))
    assert len(list(spreadsheets.rows("t.csv", ("a,b\n" + "x,1\n" * 14).encode(), bounds))) == 15


def test_a_long_blank_tail_ends_the_sheet():
    bounds = spreadsheets.Bounds(max_bytes=10**7, max_rows=10, slack=100, blank_run=50)
    data = _xlsx(("a", "b"), [("x", 1)], empty_rows=10_000)
    # (openpyxl pads each row to max_columns with None)
    assert [r[:2] for r in spreadsheets.table("t.xlsx", data, bounds)] == [("a", "b"), ("x", 1)]


def test_reading_past_the_time_bound_is_413(monkeypatch):
    bounds = spreadsheets.Bounds(max_bytes=10**7, max_rows=10**6, max_seconds=1.0)
    clock = iter(range(0, 10**6, 1))
    monkeypatch.setattr(spreadsheets.time, "monotonic", lambda: float(next(clock)))
    with pytest.raises(TooLarge):
        list(spreadsheets.rows("t.csv", ("a\n" + "x\n" * 5000).encode(), bounds))


def test_cells_past_the_column_bound_are_not_read():
    bounds = spreadsheets.Bounds(max_bytes=10**7, max_rows=10, max_columns=3)
    rows = list(spreadsheets.rows("t.csv", b"a,b,c,d,e\n1,2,3,4,5\n", bounds))
    assert rows == [("a", "b", "c"), ("1", "2", "3")]


@pytest.mark.parametrize("cell", ["张三\u202e", "张\x00三", "李\u200b四"])
def test_cells_with_control_or_bidi_characters_are_refused(cell):
    bounds = spreadsheets.Bounds(max_bytes=10**7, max_rows=10)
    with pytest.raises(ValidationFailed) as refused:
        list(spreadsheets.rows("t.csv", f"姓名\n{cell}\n".encode(), bounds))
    assert list(refused.value.errors) == ["2"]
