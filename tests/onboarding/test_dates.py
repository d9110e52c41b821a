"""Nothing that has not happened yet is accepted as done, judged on China's calendar
(coop.validators.past_date_problem, the one rule every past-event date goes through)."""
from __future__ import annotations

import io
from datetime import date

import pytest

from coop.validators import EARLIEST_EVENT, past_date_problem
from tests.factories import valid_credit_code, valid_id_card

CHINA_TODAY = date(2026, 3, 2)   # china_just_after_midnight; UTC is still 03-01


def test_the_rule_on_its_edges():
    today = date(2026, 3, 2)
    assert past_date_problem(today, today) is None
    assert past_date_problem(EARLIEST_EVENT, today) is None
    assert "晚于今天" in past_date_problem(date(2026, 3, 3), today)
    assert "核对年份" in past_date_problem(date(1949, 9, 30), today)
    assert "核对年份" in past_date_problem(date(1024, 1, 1), today)


def _member(**over):
    body = {"name": "王建国", "id_card_no": valid_id_card(), "member_type": "farmer",
            "joined_on": "2021-03-01"}
    return body | over


def test_joined_on_today_in_china_is_accepted_though_utc_is_a_day_behind(
        client, world, china_just_after_midnight):
    resp = client.post(f"/api/v1/cooperatives/{world.coop.id}/members", headers=world.manager,
                       json=_member(joined_on=CHINA_TODAY.isoformat()))
    assert resp.status_code == 201, resp.json


@pytest.mark.parametrize("joined_on", ["2026-03-03", "2027-03-02", "1024-05-01"])
def test_a_joined_on_in_the_future_or_before_1949_is_refused(client, world, joined_on,
                                                             china_just_after_midnight):
    resp = client.post(f"/api/v1/cooperatives/{world.coop.id}/members", headers=world.manager,
                       json=_member(joined_on=joined_on))
    assert resp.status_code == 422
    assert resp.json["code"] == "VALIDATION_FAILED"
    assert "joined_on" in resp.json["errors"]


def test_a_correction_cannot_move_joined_on_into_the_future(client, world, make,
                                                            china_just_after_midnight):
    member = make.member(world.coop)
    resp = client.patch(f"/api/v1/members/{member.id}", headers=world.manager,
                        json={"joined_on": "2026-03-03"})
    assert resp.status_code == 422 and "joined_on" in resp.json["errors"]


def test_an_imported_row_joining_in_the_future_is_named(client, world,
                                                        china_just_after_midnight):
    rows = ["姓名,身份证号,成员类型,入社日期",
            f"王建国,{valid_id_card()},农户,2026-03-02",
            f"李秀英,{valid_id_card()},农户,2026-03-03"]
    resp = client.post(f"/api/v1/cooperatives/{world.coop.id}/members/import",
                       headers=world.manager, content_type="multipart/form-data",
                       data={"file": (io.BytesIO("\n".join(rows).encode()), "m.csv")})
    assert resp.status_code == 422
    assert list(resp.json["errors"]) == ["3"]
    assert "入社日期" in resp.json["errors"]["3"][0]


def test_leaving_tomorrow_is_not_recorded_as_done(client, world, make,
                                                  china_just_after_midnight):
    member = make.member(world.coop)
    resp = client.post(f"/api/v1/members/{member.id}/leave", headers=world.manager,
                       json={"on": "2026-03-03", "reason": "迁出"})
    assert resp.status_code == 422 and "on" in resp.json["errors"]
    ok = client.post(f"/api/v1/members/{member.id}/leave", headers=world.manager,
                     json={"on": "2026-03-02", "reason": "迁出"})
    assert ok.status_code == 200


def test_a_cooperative_founded_next_year_is_refused(client, world, make,
                                                   china_just_after_midnight):
    village = make.village(make.town(world.county))
    body = {"name": "明日合作社", "credit_code": valid_credit_code(), "village_id": village.id,
            "founded_on": "2027-01-01", "industry": "种植", "distribution_method": "statutory",
            "land_rate_fen_per_mu": 0, "single_member_cap_rate": "0.20"}
    resp = client.post("/api/v1/cooperatives", headers=world.admin, json=body)
    assert resp.status_code == 422 and "founded_on" in resp.json["errors"]


def test_a_share_operation_dated_tomorrow_keeps_its_contract_code(client, world, make,
                                                                  china_just_after_midnight):
    member = make.member(world.coop)
    body = {"type": "subscribe", "member_id": member.id, "kind": "cash",
            "amount_fen": 100_00, "effective_on": "2026-03-03"}
    resp = client.post(f"/api/v1/cooperatives/{world.coop.id}/share-operations",
                       headers=world.manager, json=body)
    assert resp.status_code == 422 and resp.json["code"] == "EFFECTIVE_DATE_IN_FUTURE"
    body["effective_on"] = "2026-03-02"
    assert client.post(f"/api/v1/cooperatives/{world.coop.id}/share-operations",
                       headers=world.manager, json=body).status_code == 201


def test_a_trade_dated_tomorrow_is_refused(client, world, make, china_just_after_midnight):
    member = make.member(world.coop)
    resp = client.post(f"/api/v1/cooperatives/{world.coop.id}/years/2026/trades",
                       headers=world.manager,
                       json=[{"member_id": member.id, "amount_fen": 100,
                              "occurred_on": "2026-03-03", "note": ""}])
    assert resp.status_code == 422
    assert "晚于今天" in str(resp.json["errors"])
