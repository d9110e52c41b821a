"""Places (CONTRACT §2): counties, towns, villages, zones — and who may see them."""
from __future__ import annotations

import pytest

from coop.audit import AuditEntry
from coop.places.models import Zone, ZoneVillage

API = "/api/v1"


@pytest.fixture
def county(make):
    return make.county(name="单县", code="371722")


@pytest.fixture
def admin(make, county):
    return make.login("county_admin", county)[1]


def post_town(client, headers, county, **body):
    return client.post(f"{API}/counties/{county.id}/towns", headers=headers,
                       json={"name": "园艺街道", **body})


def post_village(client, headers, town, code, **body):
    return client.post(f"{API}/towns/{town.id}/villages", headers=headers,
                       json={"name": f"村{code[-3:]}", "code": code,
                             "party_secretary_name": f"书记{code[-3:]}", **body})


# --- counties -----------------------------------------------------------------------------

def test_only_a_superuser_creates_counties(client, make, admin):
    body = {"name": "成武县", "code": "371723"}
    assert client.post(f"{API}/counties", headers=admin, json=body).status_code == 403
    boss = make.headers(make.user(superuser=True))
    response = client.post(f"{API}/counties", headers=boss, json=body)
    assert response.status_code == 201
    assert response.get_json()["code"] == "371723" and response.get_json()["id"]
    duplicate = client.post(f"{API}/counties", headers=boss, json=body)
    assert duplicate.status_code == 409
    assert duplicate.get_json()["code"] == "COUNTY_CODE_TAKEN"


@pytest.mark.parametrize("code", ["37172", "3717222", "37172x", "３７１７２３", "371723\n"])
def test_county_code_is_six_ascii_digits(client, make, code):
    boss = make.headers(make.user(superuser=True))
    response = client.post(f"{API}/counties", headers=boss, json={"name": "县", "code": code})
    assert response.status_code == 422


def test_county_roles_see_their_own_county_only(client, make, county):
    other = make.county()
    _, finance = make.login("county_finance", county)
    listed = client.get(f"{API}/counties", headers=finance).get_json()
    assert [c["id"] for c in listed["items"]] == [county.id] and listed["total"] == 1
    assert client.get(f"{API}/counties/{county.id}", headers=finance).status_code == 200
    assert client.get(f"{API}/counties/{other.id}", headers=finance).status_code == 404


# --- towns and villages -------------------------------------------------------------------

def test_county_admin_builds_towns_and_villages(client, db, county, admin):
    town = post_town(client, admin, county, code="371722001")
    assert town.status_code == 201, town.get_json()
    town_id = town.get_json()["id"]
    from coop.places.models import Town
    village = post_village(client, admin, db.session.get(Town, town_id), "371722001201")
    assert village.status_code == 201, village.get_json()
    assert village.get_json()["party_secretary_name"] == "书记201"
    listed = client.get(f"{API}/towns/{town_id}/villages", headers=admin).get_json()
    assert [v["code"] for v in listed["items"]] == ["371722001201"]
    actions = db.session.execute(db.select(AuditEntry.action).where(
        AuditEntry.object_type != "audit_chain")).scalars().all()  # not the chain openings
    # the name given at creation opens a secretary's term (CONTRACT §10)
    assert actions == ["town.create", "village.create", "village_secretary.create"]


def test_town_names_are_unique_within_a_county(client, county, admin):
    assert post_town(client, admin, county).status_code == 201
    response = post_town(client, admin, county)
    assert response.status_code == 409
    assert response.get_json()["code"] == "TOWN_NAME_TAKEN"


@pytest.mark.parametrize("code,status,error", [
    ("37172200120", 422, "VALIDATION_FAILED"),       # 11 digits
    ("3717220012011", 422, "VALIDATION_FAILED"),     # 13 digits
    ("37172200120a", 422, "VALIDATION_FAILED"),
    ("３７１７２２００１２０１", 422, "VALIDATION_FAILED"),  # full-width digits
    ("371723001201", 422, "VILLAGE_CODE_INVALID"),   # another county's prefix
])
def test_village_code_is_a_12_digit_code_under_the_county(client, make, county, admin, code,
                                                          status, error):
    town = make.town(county)
    response = post_village(client, admin, town, code)
    assert response.status_code == status
    assert response.get_json()["code"] == error


def test_village_codes_are_unique(client, make, county, admin):
    town = make.town(county)
    assert post_village(client, admin, town, "371722100001").status_code == 201
    response = post_village(client, admin, town, "371722100001", name="另一个村")
    assert response.status_code == 409
    assert response.get_json()["code"] == "VILLAGE_CODE_TAKEN"


def test_read_only_county_roles_cannot_write(client, make, county):
    _, reviewer = make.login("county_reviewer", county, department="organization")
    assert client.get(f"{API}/counties/{county.id}/towns", headers=reviewer).status_code == 200
    assert post_town(client, reviewer, county).status_code == 403


def test_unknown_fields_are_refused(client, make, county, admin):
    assert post_town(client, admin, county, county_id=999).status_code == 422
    town = make.town(county)
    response = post_village(client, admin, town, "371722100002", town_id=999)
    assert response.status_code == 422


# --- zones --------------------------------------------------------------------------------

@pytest.fixture
def town_villages(make, county):
    town = make.town(county)
    return town, [make.village(town, secretary=f"书记{i}") for i in range(6)]


def post_zone(client, headers, county, town, villages, **body):
    return client.post(f"{API}/counties/{county.id}/zones", headers=headers, json={
        "name": "第一片区", "town_id": town.id, "village_ids": [v.id for v in villages],
        "secretary_name": villages[0].party_secretary_name, **body})


def test_a_zone_joins_three_to_five_villages_of_one_town(client, db, county, admin,
                                                         town_villages):
    town, villages = town_villages
    response = post_zone(client, admin, county, town, villages[:4])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["village_ids"] == sorted(v.id for v in villages[:4])
    listed = client.get(f"{API}/counties/{county.id}/zones", headers=admin).get_json()
    assert listed["items"][0]["village_ids"] == body["village_ids"]
    assert client.get(f"{API}/zones/{body['id']}", headers=admin).status_code == 200


@pytest.mark.parametrize("count", [2, 6])
def test_a_zone_has_three_to_five_villages(client, county, admin, town_villages, count, make):
    town, villages = town_villages
    villages = villages + [make.village(town)]
    response = post_zone(client, admin, county, town, villages[:count])
    assert response.status_code == 422


def test_a_village_belongs_to_at_most_one_zone(client, db, county, admin, town_villages):
    town, villages = town_villages
    assert post_zone(client, admin, county, town, villages[:3]).status_code == 201
    response = post_zone(client, admin, county, town, villages[2:5], name="第二片区")
    assert response.status_code == 422
    assert response.get_json()["code"] == "VILLAGE_ALREADY_IN_ZONE"
    assert db.session.execute(db.select(db.func.count()).select_from(Zone)).scalar_one() == 1


def test_zone_villages_must_share_one_town(client, make, county, admin, town_villages):
    town, villages = town_villages
    elsewhere = make.village(make.town(county))
    response = post_zone(client, admin, county, town, villages[:2] + [elsewhere])
    assert response.status_code == 422
    assert response.get_json()["code"] == "ZONE_VILLAGES_INVALID"


def test_duplicate_villages_do_not_make_a_zone(client, county, admin, town_villages):
    town, villages = town_villages
    response = post_zone(client, admin, county, town, [villages[0]] * 3)
    assert response.status_code == 422
    assert response.get_json()["code"] == "ZONE_VILLAGES_INVALID"


def test_zone_secretary_is_one_of_the_village_secretaries(client, db, county, admin,
                                                          town_villages):
    town, villages = town_villages
    response = post_zone(client, admin, county, town, villages[:3], secretary_name="外来人")
    assert response.status_code == 422
    assert response.get_json()["code"] == "ZONE_SECRETARY_INVALID"
    assert db.session.execute(db.select(ZoneVillage)).first() is None
