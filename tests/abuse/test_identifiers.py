"""Identifiers have one spelling (issue 20, item 2), on SQLite and MariaDB alike.

After five wrong passwords 13800000005 is 429; before, "１３８０００００００５" (full-width)
or "1380000000\\u200b5" logged in with the right password, each spelling a fresh rate-limit
bucket, because MariaDB's utf8mb4_unicode_ci found the user under any of them; and
"①③⑧00000011" matched user 13800000011 there. Now such spellings are refused at the edge
and the identifying columns compare in a binary collation (migration 0006), so even a
lookup that bypassed the edge could not match them.
"""
from __future__ import annotations

import io
import json
import uuid

import pytest
from sqlalchemy import func, select

from auth.models import User
from coop import create_app
from coop.extensions import db as _db
from coop.extensions import limiter
from tests.conftest import TEST_CONFIG, IsolatedClient

PASSWORD = "correct horse battery"
PHONE = "13800000005"


@pytest.fixture
def limited(app, db, make):
    """An app with the login limits on (3 failed tries per phone), on the test database."""
    make.user("county_admin", make.county(), phone=PHONE, password=PASSWORD)
    make.user("county_admin", make.county(), phone="13800000011", password=PASSWORD)
    limited_app = create_app({
        **TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_LOGIN_PER_PHONE": "3 per minute", "RATELIMIT_LOGIN_PER_IP": "100 per minute",
        "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": f"coop-test-{uuid.uuid4().hex}"}})
    limited_app.test_client_class = IsolatedClient
    yield limited_app.test_client()
    limiter.reset()
    with limited_app.app_context():
        _db.engine.dispose()


def _login(client, phone, password=PASSWORD):
    # json.dumps escapes non-ASCII: what a hand-written client sends.
    return client.post("/api/v1/auth/login", data=json.dumps({"phone": phone, "password": password}),
                       content_type="application/json")


SPELLINGS = ["１３８０００００００５", "1380000000\u200b5", "13800000005\u200d", "١٣٨٠٠٠٠٠٠٠٥",
             "\u202d13800000005"]


def test_other_spellings_of_a_blocked_phone_neither_log_in_nor_open_a_bucket(limited):
    for _ in range(3):
        assert _login(limited, PHONE, "wrong password").status_code == 401
    assert _login(limited, PHONE).status_code == 429
    for spelling in SPELLINGS:
        response = _login(limited, spelling)
        assert response.status_code in (422, 429), (spelling, response.get_json())
        assert "access_token" not in (response.get_json() or {})
    # Spaces and dashes are typing, not another phone: the same (blocked) bucket.
    assert _login(limited, "138-0000-0005").status_code == 429
    assert _login(limited, "138 0000 0005").status_code == 429


def test_circled_and_full_width_digits_match_no_user(limited):
    for spelling in ("①③⑧00000011", "１３８０００００011", "13800000011\ufeff"):
        assert _login(limited, spelling).status_code == 422, spelling
    assert _login(limited, "13800000011").status_code == 200


def test_identifier_columns_compare_byte_for_byte(db, make):
    """Below the edge too: the database itself does not hold other spellings equal."""
    make.user("county_admin", make.county(), phone=PHONE)
    session = db.session
    for spelling in ("１３８０００００００５", "1380000000\u200b5", "①③⑧00000005"):
        count = session.execute(select(func.count()).select_from(User)
                                .where(User.phone == spelling)).scalar_one()
        assert count == 0, spelling
    assert session.execute(select(func.count()).select_from(User)
                           .where(User.phone == PHONE)).scalar_one() == 1


@pytest.mark.parametrize("field,value", [
    ("bank_account", "６２２８４８００００００００００"), ("bank_account", "٦٢٢٨٤٨٠٠٠٠٠٠٠٠"),
    ("phone", "１３９１２３４５６７８"), ("id_card_no", "１１０１０５１９４９１２３１００２Ｘ"),
])
def test_member_identifiers_with_non_ascii_digits_are_refused(client, make, field, value):
    coop = make.cooperative()
    _, headers = make.login("coop_manager", coop)
    body = {"name": "张三", "id_card_no": "11010519491231002X", "member_type": "农户",
            "joined_on": "2024-01-01", "bank_name": "农业银行", "bank_account": "6228480000000000"}
    body[field] = value
    response = client.post(f"/api/v1/cooperatives/{coop.id}/members", headers=headers,
                           data=json.dumps(body), content_type="application/json")
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    # The same body with ASCII digits (and the type by its Chinese name) is taken.
    body[field] = {"bank_account": "6228480000000000", "phone": "13912345678",
                   "id_card_no": "11010519491231002X"}[field]
    response = client.post(f"/api/v1/cooperatives/{coop.id}/members", headers=headers,
                           json=body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["member_type"] == "farmer"


def _upload(client, url, headers, name, text):
    return client.post(url, headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(text.encode("utf-8")), name)})


def test_spreadsheet_numbers_with_non_ascii_digits_are_refused(client, make):
    """The uploads take the same stance as JSON: a bank account or an amount in fen
    typed in full-width or Arabic-Indic digits is a row error, not a number."""
    coop = make.cooperative()
    _, headers = make.login("coop_manager", coop)
    members = ("姓名,身份证号,成员类型,入社日期,开户行,银行账号\n"
               "张三,11010519491231002X,农户,2024-01-01,农业银行,６２２８４８００００００００００\n")
    response = _upload(client, f"/api/v1/cooperatives/{coop.id}/members/import", headers,
                       "m.csv", members)
    assert response.status_code == 422, response.get_json()
    assert "银行账号" in json.dumps(response.get_json()["errors"], ensure_ascii=False)
    member = make.member(coop)
    trades = f"成员ID,amount_fen,日期\n{member.id},１２００,2024-03-01\n"
    response = _upload(client, f"/api/v1/cooperatives/{coop.id}/years/2024/trades", headers,
                       "t.csv", trades)
    assert response.status_code == 422, response.get_json()


def test_rates_take_ascii_digits_only(client, make):
    county = make.county()
    coop = make.cooperative(county=county)
    headers = make.login("county_admin", county)[1]
    url = f"/api/v1/cooperatives/{coop.id}"
    for rate in ("0.２", "0.٢"):
        response = client.patch(url, headers=headers, data=json.dumps(
            {"single_member_cap_rate": rate}), content_type="application/json")
        assert response.status_code == 422, response.get_json()
        assert "single_member_cap_rate" in response.get_json()["errors"]
    response = client.patch(url, headers=headers, json={"single_member_cap_rate": "0.25"})
    assert response.status_code == 200, response.get_json()
