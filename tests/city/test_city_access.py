"""The city_viewer role: reads every county of its city (masked), 404 outside its city,
403 on every write. The abuse matrix (tests/abuse) runs it against every route; these
tests hold the promises a city relies on in one place."""
from __future__ import annotations

import pytest

from auth.policy import CITY, policy_of
from coop.places.cities import City
from tests.abuse.routes import WRITES
from tests.auth.test_route_policy import api_views

YEAR = 2024
ID_CARD = "110101199003070017"
ACCOUNT = "6228480000000000000"
PHONE = "13812345678"


def test_no_write_route_lets_a_city_viewer_through(app):
    """CITY sits only in the read groups: no route that writes names it."""
    def roles(view) -> tuple:
        named = policy_of(view).roles
        return named if isinstance(named, tuple) else ()     # public, any_user
    writers = [(rule, method) for rule, method, view in api_views(app)
               if method in WRITES and set(CITY) & set(roles(view))]
    assert writers == []


@pytest.fixture
def city_world(db, make):
    a, b = make.county(name="甲县", code="371721"), make.county(name="乙县", code="371722")
    far = make.county(name="远县", code="371801")
    heze, other = City(name="菏泽市", code="371700"), City(name="他市", code="371800")
    db.session.add_all([heze, other])
    db.session.flush()
    a.city_id, b.city_id, far.city_id = heze.id, heze.id, other.id
    db.session.commit()
    coop_b = make.cooperative(county=b)
    member = make.member(coop_b, name="乙社成员", id_card=ID_CARD, bank_account=ACCOUNT,
                         phone=PHONE)
    from tests.county.conftest import add_officer
    officer = add_officer(db.session, coop_b, "乙社理事", id_card="110101198001010030")
    officer.phone = PHONE
    db.session.commit()
    viewer = make.login("city_viewer", heze)[1]
    return {"a": a, "b": b, "far": far, "heze": heze, "other": other, "coop_b": coop_b,
            "member": member, "officer": officer, "headers": viewer,
            "far_coop": make.cooperative(county=far)}


def test_a_city_viewer_reads_each_county_of_its_city_masked(client, city_world):
    w, headers = city_world, city_world["headers"]
    listed = client.get("/api/v1/counties", headers=headers).get_json()
    assert {c["name"] for c in listed["items"]} == {"甲县", "乙县"}
    for url in (f"/api/v1/counties/{w['a'].id}", f"/api/v1/cooperatives/{w['coop_b'].id}",
                f"/api/v1/cooperatives/{w['coop_b'].id}/members",
                f"/api/v1/members/{w['member'].id}",
                f"/api/v1/cooperatives/{w['coop_b'].id}/officers"):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.get_json())
        text = response.get_data(as_text=True)
        # Never a whole ID card, bank account or phone number.
        assert ID_CARD not in text and ACCOUNT not in text and PHONE not in text, url
        assert "110101198001010030" not in text
    member = client.get(f"/api/v1/members/{w['member'].id}", headers=headers).get_json()
    assert "*" in member["id_card_no"] and member["id_card_no"].endswith("0017")
    assert member["phone"] != PHONE and "*" in member["phone"]
    report = client.get("/api/v1/reports/payouts", headers=headers, query_string={
        "scope": "city", "id": w["heze"].id, "year": YEAR})
    assert report.status_code == 200, report.get_json()
    assert report.get_json()["county_id"] is None


def test_another_citys_counties_and_reports_are_not_found(client, city_world):
    w, headers = city_world, city_world["headers"]
    for url, query in ((f"/api/v1/counties/{w['far'].id}", None),
                       (f"/api/v1/cooperatives/{w['far_coop'].id}", None),
                       ("/api/v1/reports/dashboard", {"city_id": w["other"].id, "year": YEAR}),
                       ("/api/v1/reports/dashboard", {"county_id": w["far"].id, "year": YEAR}),
                       ("/api/v1/reports/payouts", {"scope": "city", "id": w["other"].id,
                                                    "year": YEAR})):
        response = client.get(url, headers=headers, query_string=query)
        assert response.status_code == 404, (url, query, response.get_json())


def test_a_city_viewer_writes_nothing(client, city_world):
    w, headers = city_world, city_world["headers"]
    for method, url, body in (
            ("POST", f"/api/v1/counties/{w['a'].id}/towns", {"name": "新镇"}),
            ("POST", f"/api/v1/cooperatives/{w['coop_b'].id}/status-changes",
             {"to": "shell", "reason": "x"}),
            ("PATCH", f"/api/v1/members/{w['member'].id}", {"phone": "13900000000"}),
            ("POST", "/api/v1/users", {"phone": "13900000001", "name": "x", "password": "x" * 12,
                                       "roles": []})):
        response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code == 403, (method, url, response.get_json())


def test_a_county_admin_cannot_grant_the_city_role(client, make, city_world):
    admin = make.login("county_admin", city_world["a"])[1]
    response = client.post("/api/v1/users", headers=admin, json={
        "phone": "13900000002", "name": "市里的人", "password": "long-enough-pass",
        "roles": [{"role": "city_viewer", "scope_type": "city",
                   "scope_id": city_world["heze"].id}]})
    assert response.status_code == 404, response.get_json()


def test_the_city_dashboard_needs_the_city_role(client, make, city_world):
    """A county role of one county of the city does not read the city's dashboard."""
    admin = make.login("county_admin", city_world["a"])[1]
    response = client.get("/api/v1/reports/dashboard", headers=admin,
                          query_string={"city_id": city_world["heze"].id, "year": YEAR})
    assert response.status_code == 404
    both = client.get("/api/v1/reports/dashboard", headers=city_world["headers"],
                      query_string={"city_id": city_world["heze"].id,
                                    "county_id": city_world["a"].id, "year": YEAR})
    assert both.status_code == 422
