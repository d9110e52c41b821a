"""Member import from .csv and .xlsx: all rows or none, every bad row named."""
from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import Workbook

from tests.factories import valid_credit_code, valid_id_card

from coop import crypto
from coop.audit import AuditEntry
from coop.registry.models import Member

HEADER = ["姓名", "身份证号", "手机号", "成员类型", "入社日期", "开户行", "银行账号"]


def csv_bytes(rows, header=HEADER, bom=True, encoding="utf-8") -> bytes:
    text = "\r\n".join(",".join(str(c) for c in row) for row in [header, *rows]) + "\r\n"
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows, header=HEADER, title=None) -> bytes:
    book = Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, world, data: bytes, filename: str, headers=None, coop=None):
    return client.post(f"/api/v1/cooperatives/{(coop or world.coop).id}/members/import",
                       headers=headers or world.manager,
                       data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def row(name="王建国", id_card=None, phone="13812345678", kind="农户", joined="2021-03-01",
        bank="单县农村商业银行", account="6228480012345678901"):
    return [name, id_card or valid_id_card(), phone, kind, joined, bank, account]


def count(db, coop) -> int:
    return db.session.query(Member).filter_by(cooperative_id=coop.id).count()


def test_a_utf8_bom_csv_with_chinese_headers_and_values_is_imported(client, world, db):
    cards = [valid_id_card() for _ in range(4)]
    rows = [row("王建国", cards[0], kind="农户", joined="2021-03-01"),
            row("李秀英", cards[1], kind="农民", joined="2021/3/2", phone=""),
            row("单县刘庄村股份经济合作社", valid_credit_code(), kind="集体",
                joined="2021年3月3日", phone="", bank="", account=""),
            row("张海燕", cards[2], kind="enterprise", joined="20210304"),
            row("赵德胜", cards[3], kind="其他", joined="2021.03.05")]
    response = upload(client, world, csv_bytes(rows), "成员名册.csv")
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"imported": 5, "cooperative_id": world.coop.id}
    stored = {m.name: m for m in db.session.query(Member).filter_by(cooperative_id=world.coop.id)}
    assert stored["李秀英"].joined_on.isoformat() == "2021-03-02"
    assert stored["单县刘庄村股份经济合作社"].member_type == "collective"
    assert stored["单县刘庄村股份经济合作社"].collective_of == world.coop.id
    assert stored["赵德胜"].joined_on.isoformat() == "2021-03-05"
    assert crypto.decrypt(stored["王建国"].id_card_enc) == cards[0]
    assert stored["王建国"].bank_account_masked.endswith("8901")
    assert db.session.query(AuditEntry).filter_by(action="member.import").count() == 1


def test_a_csv_without_bom_and_with_english_headers_is_imported(client, world, db):
    header = ["name", "id_card_no", "phone", "member_type", "joined_on", "bank_name",
              "bank_account"]
    rows = [row(kind="farmer"), row(kind="farmer")]
    response = upload(client, world, csv_bytes(rows, header, bom=False), "members.csv")
    assert response.status_code == 201, response.get_json()
    assert count(db, world.coop) == 2


def test_a_gbk_csv_saved_by_chinese_excel_is_read(client, world, db):
    response = upload(client, world, csv_bytes([row()], bom=False, encoding="gbk"), "m.csv")
    assert response.status_code == 201, response.get_json()


def test_an_xlsx_with_a_title_row_date_cells_and_numeric_phones_is_imported(client, world, db):
    rows = [["王建国", valid_id_card(), 13812345678, "农户", datetime(2021, 3, 1),
             "单县农村商业银行", "6228480012345678901"],
            ["李秀英", valid_id_card(), None, "农户", "2021-03-02", None, None]]
    data = xlsx_bytes([[n + 1, *r, "无"] for n, r in enumerate(rows)],
                      header=["序号"] + HEADER + ["备注"], title="单县某合作社成员名册")
    response = upload(client, world, data, "名册.xlsx")
    assert response.status_code == 201, response.get_json()
    stored = db.session.query(Member).filter_by(name="王建国").one()
    assert stored.phone == "13812345678"
    assert stored.joined_on.isoformat() == "2021-03-01"


def test_a_file_with_bad_rows_imports_nothing_and_names_every_bad_row(client, world, make, db):
    existing_card = valid_id_card()
    make.member(world.coop, id_card=existing_card)
    make.member(world.coop, member_type="collective")
    good = valid_id_card()
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    twice = valid_id_card()
    rows = [row("好人", valid_id_card()),                       # row 2: fine
            row("校验错", wrong),                                # row 3
            row("重复甲", twice),                                # row 4: fine by itself
            row("重复乙", twice),                                # row 5: repeats row 4
            row("已在册", existing_card),                        # row 6
            row("第二个集体", valid_id_card(), kind="集体"),      # row 7
            row("类型错", valid_id_card(), kind="工人"),          # row 8
            row("日期错", valid_id_card(), joined="去年"),        # row 9
            row("", valid_id_card(), phone="123")]              # row 10: two reasons
    response = upload(client, world, csv_bytes(rows), "m.csv")
    assert response.status_code == 422
    body = response.get_json()
    assert set(body["errors"]) == {"3", "5", "6", "7", "8", "9", "10"}
    assert "身份证号" in body["errors"]["3"][0]
    assert "第 4 行" in body["errors"]["5"][0]
    assert "已有" in body["errors"]["6"][0]
    assert "集体" in body["errors"]["7"][0]
    assert len(body["errors"]["10"]) == 2
    assert "未导入" in body["detail"]
    assert count(db, world.coop) == 2  # only the two made before
    assert db.session.query(AuditEntry).filter_by(action="member.import").count() == 0


def test_two_collectives_in_one_file_are_refused(client, world, db):
    rows = [row("甲村集体", valid_credit_code(), kind="集体", bank="", account=""),
            row("乙村集体", valid_credit_code(), kind="集体", bank="", account="")]
    response = upload(client, world, csv_bytes(rows), "m.csv")
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"3"}


def test_an_id_number_excel_stored_as_a_number_is_reported_not_guessed(client, world, db):
    rows = [["王建国", 371722197506011237, "13812345678", "农户", "2021-03-01", None, None],
            ["李秀英", 3.71722197506011e17, "13812345678", "农户", "2021-03-01", None, None]]
    response = upload(client, world, xlsx_bytes(rows), "m.xlsx")
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"2", "3"}
    assert all("文本" in reasons[0] for reasons in errors.values())


def test_missing_required_headers_are_422(client, world):
    response = upload(client, world, csv_bytes([["王建国", "x"]], header=["姓名", "电话"]),
                      "m.csv")
    assert response.status_code == 422
    assert "file" in response.get_json()["errors"]


def test_a_corrupt_xlsx_and_an_old_xls_are_422(client, world):
    broken = xlsx_bytes([row()])[:300]
    assert upload(client, world, broken, "m.xlsx").status_code == 422
    assert upload(client, world, b"\xd0\xcf\x11\xe0 old excel", "m.xls").status_code == 422


def test_a_request_without_a_file_is_422(client, world):
    response = client.post(f"/api/v1/cooperatives/{world.coop.id}/members/import",
                           headers=world.manager, data={}, content_type="multipart/form-data")
    assert response.status_code == 422


def test_more_rows_than_the_limit_is_422(client, world, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "MEMBER_IMPORT_MAX_ROWS", 3)
    response = upload(client, world, csv_bytes([row() for _ in range(4)]), "m.csv")
    assert (response.status_code, response.get_json()["code"]) == (422, "TOO_MANY_ROWS")
    assert upload(client, world, csv_bytes([row() for _ in range(3)]),
                  "m.csv").status_code == 201


def test_a_file_over_the_import_limit_is_413(client, world, app, monkeypatch):
    monkeypatch.setitem(app.config, "MEMBER_IMPORT_MAX_BYTES", 1000)
    data = csv_bytes([row() for _ in range(20)])
    assert len(data) > 1000
    response = upload(client, world, data, "m.csv")
    assert (response.status_code, response.get_json()["code"]) == (413, "PAYLOAD_TOO_LARGE")


def test_a_body_over_the_app_limit_is_413(client, world, app):
    data = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = upload(client, world, data, "m.csv")
    assert (response.status_code, response.get_json()["code"]) == (413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize("who", ["reader", "commissioner", "manager_b"])
def test_only_the_cooperatives_manager_imports(client, world, make, who):
    headers = {"reader": world.reader, "manager_b": world.manager_b,
               "commissioner": make.login("commissioner", world.coop)[1]}[who]
    response = upload(client, world, csv_bytes([row()]), "m.csv", headers=headers)
    assert response.status_code == (404 if who == "manager_b" else 403)
