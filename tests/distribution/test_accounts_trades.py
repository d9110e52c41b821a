"""Annual accounts and trades over HTTP (CONTRACT §5)."""
from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from coop.distribution.models import AnnualAccount, DistributionPlan, Trade
from tests.distribution.builders import give_account

ACCOUNT = {"revenue_fen": 300_000_000, "cost_fen": 184_000_000, "prior_loss_fen": 0,
           "wages_paid_fen": 1_274_000, "labour_days": 1370, "fiscal_subsidy_fen": 5_000_000}


@pytest.fixture
def coop_manager(make):
    coop = make.cooperative()
    user, headers = make.login("coop_manager", coop)
    return coop, headers


def trade_count(db, coop) -> int:
    return db.session.execute(select(func.count()).select_from(Trade).where(
        Trade.cooperative_id == coop.id)).scalar_one()


def test_put_then_get_annual_account(client, coop_manager):
    coop, headers = coop_manager
    url = f"/api/v1/cooperatives/{coop.id}/years/2024"
    assert client.get(url, headers=headers).status_code == 404
    response = client.put(url, json=ACCOUNT, headers=headers)
    assert response.status_code == 200, response.get_json()
    body = client.get(url, headers=headers).get_json()
    assert {k: body[k] for k in ACCOUNT} == ACCOUNT
    assert body["year"] == 2024 and body["locked"] is False
    changed = {**ACCOUNT, "revenue_fen": 1}
    assert client.put(url, json=changed, headers=headers).get_json()["revenue_fen"] == 1


@pytest.mark.parametrize("body, field", [
    ({**ACCOUNT, "revenue_fen": -1}, "revenue_fen"),
    ({**ACCOUNT, "cost_fen": 10**18}, "cost_fen"),
    ({**ACCOUNT, "revenue_fen": "12.5"}, "revenue_fen"),
    ({**ACCOUNT, "profit_fen": 5}, "profit_fen"),
    ({"cost_fen": 1}, "revenue_fen"),
])
def test_bad_account_is_422(client, coop_manager, body, field):
    coop, headers = coop_manager
    response = client.put(f"/api/v1/cooperatives/{coop.id}/years/2024", json=body,
                          headers=headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize("year", [1999, 2101, 99999])
def test_year_outside_sane_range_is_422(client, coop_manager, year):
    coop, headers = coop_manager
    response = client.put(f"/api/v1/cooperatives/{coop.id}/years/{year}", json=ACCOUNT,
                          headers=headers)
    assert response.status_code == 422


def test_account_and_trades_lock_once_the_plan_is_approved(client, db, coop_manager, make):
    coop, headers = coop_manager
    member = make.member(coop)
    give_account(db.session, coop, 2024, 1_000, 0)
    db.session.add(DistributionPlan(county_id=coop.county_id, cooperative_id=coop.id,
                                    year=2024, live_year=2024, method="statutory",
                                    reserve_rate=0, status="approved", basis_digest="x"))
    db.session.commit()
    url = f"/api/v1/cooperatives/{coop.id}/years/2024"
    response = client.put(url, json=ACCOUNT, headers=headers)
    assert response.status_code == 409
    assert response.get_json()["code"] == "STATE_CONFLICT"
    assert client.get(url, headers=headers).get_json()["locked"] is True
    trades = [{"member_id": member.id, "amount_fen": 5, "occurred_on": "2024-05-01"}]
    assert client.post(url + "/trades", json=trades, headers=headers).status_code == 409
    # another year stays open
    assert client.put(f"/api/v1/cooperatives/{coop.id}/years/2025", json=ACCOUNT,
                      headers=headers).status_code == 200


def test_trades_json_import_and_list(client, db, coop_manager, make):
    coop, headers = coop_manager
    a, b = make.member(coop, name="张三"), make.member(coop, name="李四")
    rows = [{"member_id": a.id, "amount_fen": 120_050, "occurred_on": "2024-03-02",
             "note": "小麦"},
            {"member_id": b.id, "amount_fen": 99, "occurred_on": "2024-12-31", "note": None}]
    url = f"/api/v1/cooperatives/{coop.id}/years/2024/trades"
    response = client.post(url, json=rows, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"year": 2024, "count": 2, "amount_fen": 120_149}
    page = client.get(url + "?per_page=1", headers=headers).get_json()
    assert page["total"] == 2 and len(page["items"]) == 1
    assert page["items"][0]["member_name"] == "张三"
    only_b = client.get(f"{url}?member_id={b.id}", headers=headers).get_json()
    assert [t["amount_fen"] for t in only_b["items"]] == [99]


def test_trades_are_all_or_nothing_with_row_errors(client, db, coop_manager, make):
    coop, headers = coop_manager
    member = make.member(coop)
    stranger = make.member(make.cooperative())
    rows = [{"member_id": member.id, "amount_fen": 5, "occurred_on": "2024-05-01"},
            {"member_id": stranger.id, "amount_fen": 5, "occurred_on": "2024-05-01"},
            {"member_id": member.id, "amount_fen": 5, "occurred_on": "2023-12-31"}]
    response = client.post(f"/api/v1/cooperatives/{coop.id}/years/2024/trades", json=rows,
                           headers=headers)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"1", "2"}
    assert "member_id" in errors["1"] and "occurred_on" in errors["2"]
    assert trade_count(db, coop) == 0


@pytest.mark.parametrize("body", [
    [], {"member_id": 1}, [{"member_id": 1, "amount_fen": 1.5, "occurred_on": "2024-01-01"}],
    [{"member_id": 1, "amount_fen": 1, "occurred_on": "2024-01-01", "price": 3}],
    [{"member_id": 1, "amount_fen": 1, "occurred_on": "2024-02-30"}],
])
def test_malformed_trade_bodies_are_422(client, coop_manager, body):
    coop, headers = coop_manager
    response = client.post(f"/api/v1/cooperatives/{coop.id}/years/2024/trades", json=body,
                           headers=headers)
    assert response.status_code == 422


def test_trade_body_that_is_not_json_is_400(client, coop_manager):
    coop, headers = coop_manager
    response = client.post(f"/api/v1/cooperatives/{coop.id}/years/2024/trades",
                           data=b"{not json", content_type="application/json", headers=headers)
    assert response.status_code == 400


def test_future_trade_date_is_refused(client, coop_manager, make):
    coop, headers = coop_manager
    member = make.member(coop)
    year = date.today().year + 1
    rows = [{"member_id": member.id, "amount_fen": 5, "occurred_on": f"{year}-01-02"}]
    response = client.post(f"/api/v1/cooperatives/{coop.id}/years/{year}/trades", json=rows,
                           headers=headers)
    assert response.status_code == 422


def test_correction_may_not_take_a_member_below_zero(client, db, coop_manager, make):
    coop, headers = coop_manager
    member = make.member(coop)
    url = f"/api/v1/cooperatives/{coop.id}/years/2024/trades"
    ok = [{"member_id": member.id, "amount_fen": 500, "occurred_on": "2024-05-01"}]
    assert client.post(url, json=ok, headers=headers).status_code == 201
    fix = [{"member_id": member.id, "amount_fen": -200, "occurred_on": "2024-05-02",
            "note": "冲正"}]
    assert client.post(url, json=fix, headers=headers).status_code == 201
    too_much = [{"member_id": member.id, "amount_fen": -301, "occurred_on": "2024-05-03"}]
    response = client.post(url, json=too_much, headers=headers)
    assert response.status_code == 422 and "0" in response.get_json()["errors"]
    assert trade_count(db, coop) == 2


def upload(client, coop, headers, name: str, content: bytes, year: int = 2024):
    return client.post(f"/api/v1/cooperatives/{coop.id}/years/{year}/trades",
                       data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data", headers=headers)


def test_csv_upload_with_chinese_headers_by_id_card_name_and_member_id(client, db,
                                                                      coop_manager, make):
    from tests.factories import valid_id_card
    coop, headers = coop_manager
    card = valid_id_card()
    a = make.member(coop, name="张三", id_card=card)
    b = make.member(coop, name="李四")
    c = make.member(coop, name="王五")
    text = ("成员ID,身份证号,姓名,金额(元),日期,备注\n"
            f"{a.id},,,\"1,234.50\",2024-03-01,玉米\n"
            f",{card},张三,10,2024/3/2,\n"
            f",,李四,0.01,2024年3月3日,\n"
            f"{c.id},,,100元,2024-12-31,年底\n")
    response = upload(client, coop, headers, "交易.csv", text.encode("utf-8-sig"))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["count"] == 4
    got = dict(db.session.execute(select(Trade.member_id, func.sum(Trade.amount_fen))
                                  .group_by(Trade.member_id)).all())
    assert got == {a.id: 123_450 + 1_000, b.id: 1, c.id: 10_000}


def test_csv_in_gbk_is_read(client, db, coop_manager, make):
    coop, headers = coop_manager
    make.member(coop, name="赵六")
    text = "姓名,金额(元),日期\n赵六,12.30,2024-06-01\n"
    response = upload(client, coop, headers, "trades.csv", text.encode("gb18030"))
    assert response.status_code == 201, response.get_json()


def test_csv_errors_name_the_sheet_rows(client, db, coop_manager, make):
    coop, headers = coop_manager
    make.member(coop, name="同名")
    make.member(coop, name="同名")
    other = make.member(make.cooperative())
    text = ("成员ID,姓名,金额(元),日期\n"
            ",同名,1,2024-01-01\n"
            f"{other.id},,1,2024-01-01\n"
            ",没这个人,1,2024-01-01\n"
            ",同名,1.234,2024-13-01\n")
    response = upload(client, coop, headers, "t.csv", text.encode())
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"2", "3", "4", "5"}
    assert set(errors["5"]) >= {"金额(元)", "日期"}
    assert trade_count(db, coop) == 0


def test_xlsx_upload_with_date_cells_and_amount_fen(client, db, coop_manager, make):
    coop, headers = coop_manager
    member = make.member(coop, name="钱七")
    book = Workbook()
    sheet = book.active
    sheet.append(["成员ID", "amount_fen", "日期", "备注"])
    sheet.append([member.id, 250_000, date(2024, 7, 1), "苹果"])
    sheet.append([member.id, 1, "2024-07-02", None])
    buffer = io.BytesIO()
    book.save(buffer)
    response = upload(client, coop, headers, "交易.xlsx", buffer.getvalue())
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["amount_fen"] == 250_001


@pytest.mark.parametrize("name, content", [
    ("t.xlsx", b"not a zip at all"),
    ("t.txt", b"a,b"),
    ("t.csv", b""),
    ("t.csv", "金额(元),日期\n1,2024-01-01\n".encode()),
])
def test_bad_files_are_422(client, coop_manager, name, content):
    coop, headers = coop_manager
    assert upload(client, coop, headers, name, content).status_code == 422


def test_multipart_without_file_is_422(client, coop_manager):
    coop, headers = coop_manager
    response = client.post(f"/api/v1/cooperatives/{coop.id}/years/2024/trades",
                           data={"other": "x"}, content_type="multipart/form-data",
                           headers=headers)
    assert response.status_code == 422


def test_account_rows_carry_county_and_cooperative(client, db, coop_manager):
    coop, headers = coop_manager
    client.put(f"/api/v1/cooperatives/{coop.id}/years/2024", json=ACCOUNT, headers=headers)
    account = db.session.execute(select(AnnualAccount)).scalar_one()
    assert (account.county_id, account.cooperative_id) == (coop.county_id, coop.id)
