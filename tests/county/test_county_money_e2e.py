"""County money end to end (issue 15): a reward round approved by a second finance user →
its batch → the bank file (held lines absent) → the bank's return file uploaded → the
account fixed on a held line → paid; the program's committed and disbursed figures, the
batch totals and the report's totals (json, csv, xlsx, pdf) agree to the fen. Runs on MariaDB
too (TEST_DATABASE_URL)."""
from __future__ import annotations

import csv
import subprocess
import io

import openpyxl
from sqlalchemy import select

import coop.clock as clock
from coop.money import format_yuan
from coop.registry.models import Officer
from tests.county.test_reward_basis import yuncheng
from tests.county.test_rewards import create_round

API = "/api/v1"


def _csv_rows(response):
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def _return_file(rows) -> tuple[io.BytesIO, str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["行号", "状态", "银行流水号", "支付日期"])
    writer.writerows(rows)
    return io.BytesIO(out.getvalue().encode("utf-8-sig")), "回单.csv"


def test_reward_round_to_bank_return_and_totals_that_agree(client, world, db):
    program = yuncheng(client, world, db)
    # 王理事 has no account anywhere: his line is held
    wang = db.session.execute(select(Officer).where(Officer.name == "王理事")).scalar_one()
    wang.bank_name = wang.bank_account_enc = wang.bank_account_masked = None
    db.session.commit()
    rnd = create_round(client, world, year=2024).get_json()
    approved = client.post(f"{API}/reward-rounds/{rnd['id']}/approve",
                           headers=world.finance2[1]).get_json()
    batch_url = f"{API}/payout-batches/{approved['payout_batch_id']}"
    finance = world.finance1[1]
    batch = client.get(batch_url, headers=finance).get_json()
    total = rnd["total_fen"]
    assert (batch["issued_fen"], batch["held_fen"], batch["pending_fen"]) == (
        total, 1_500_000, total - 1_500_000)
    bank_file = _csv_rows(client.get(batch_url + "/bank-file", headers=finance))
    assert "王理事" not in [r[0] for r in bank_file[1:]] and len(bank_file) == 1 + 4
    today = clock.today().isoformat()
    # the bank's return: every row of the bank file paid, named by the file's 附言
    upload, name = _return_file([(r[4], "成功", f"YH{n}", today)
                                 for n, r in enumerate(bank_file[1:])])
    response = client.post(batch_url + "/results", headers=finance,
                           data={"file": (upload, name)}, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    # a bad return file is refused whole, its rows named
    upload, name = _return_file([("abc", "成功", "X", today)])
    bad = client.post(batch_url + "/results", headers=finance,
                      data={"file": (upload, name)}, content_type="multipart/form-data")
    assert bad.status_code == 422 and "row 2" in bad.get_json()["errors"]
    # the held line: refused as paid, then given an account and paid
    lines = client.get(batch_url + "/lines?status=held", headers=finance).get_json()["items"]
    [held] = lines
    upload, name = _return_file([(held["id"], "成功", "YH-W", today)])
    refused = client.post(batch_url + "/results", headers=finance,
                          data={"file": (upload, name)}, content_type="multipart/form-data")
    assert (refused.status_code, refused.get_json()["code"]) == (422, "BANK_ACCOUNT_MISSING")
    fixed = client.patch(f"{API}/payout-lines/{held['id']}", headers=finance,
                         json={"bank_name": "农业银行", "bank_account": "6228480000000007777"})
    assert fixed.status_code == 200 and fixed.get_json()["status"] == "pending"
    assert [r[0] for r in _csv_rows(client.get(batch_url + "/bank-file",
                                               headers=finance))[1:]] == ["王理事"]
    upload, name = _return_file([(held["id"], "成功", "YH-W", today)])
    assert client.post(batch_url + "/results", headers=finance, data={"file": (upload, name)},
                       content_type="multipart/form-data").status_code == 200
    # everything agrees to the fen
    batch = client.get(batch_url, headers=finance).get_json()
    assert batch["status"] == "closed"
    assert (batch["paid_fen"], batch["pending_fen"], batch["held_fen"], batch["failed_fen"]) \
        == (total, 0, 0, 0)
    body = client.get(f"{API}/programs/{program['id']}", headers=finance).get_json()
    assert (body["committed_fen"], body["disbursed_fen"]) == (0, total)
    query = {"scope": "county", "id": world.county.id, "year": 2024}
    report = client.get(f"{API}/reports/payouts", query_string=query, headers=finance).get_json()
    assert (report["totals"]["paid_fen"], report["totals"]["issued_fen"]) == (total, total)
    text = client.get(f"{API}/reports/payouts", headers=finance,
                      query_string={**query, "format": "csv"}).data.decode("utf-8-sig")
    paid_row = next(r for r in csv.reader(io.StringIO(text)) if r and r[0].startswith("实发"))
    assert format_yuan(total) in [c.replace(",", "") for c in paid_row]
    xlsx = client.get(f"{API}/reports/payouts", headers=finance,
                      query_string={**query, "format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data), read_only=True)
    cells = [row for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
             if row and isinstance(row[0], str) and row[0].startswith("实发")]
    assert cells and any(c in (total, total / 100, format_yuan(total)) for c in cells[0])
    pdf = client.get(f"{API}/reports/payouts", headers=finance,
                     query_string={**query, "format": "pdf"})
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf.data,
                          capture_output=True, check=True).stdout.decode("utf-8")
    paid_line = next(line for line in text.splitlines() if line.strip().startswith("实发"))
    assert format_yuan(total, thousands=True) in paid_line
