"""Registering cooperatives: validation, scoping, who may change what."""
from __future__ import annotations

from tests.factories import valid_credit_code

from coop.audit import AuditEntry
from coop.registry.models import Cooperative


def coop_body(village_id: int, **over) -> dict:
    body = {"name": "单县刘庄村富民种植专业合作社", "credit_code": valid_credit_code(),
            "village_id": village_id, "founded_on": "2020-03-01", "industry": "粮食种植",
            "distribution_method": "by_shares", "land_rate_fen_per_mu": 800_000,
            "single_member_cap_rate": "0.20"}
    body.update(over)
    return body


def test_county_admin_registers_a_cooperative_with_its_charter(client, world, db):
    body = coop_body(world.village.id, labour_ticket_rate_fen=200_000,
                     collective_cap_applies=True, single_member_cap_rate="0.125")
    response = client.post("/api/v1/cooperatives", headers=world.admin, json=body)
    assert response.status_code == 201, response.get_json()
    out = response.get_json()
    assert out["status"] == "active"
    assert out["county_id"] == world.county.id and out["town_id"] == world.town.id
    assert out["single_member_cap_rate"] == "0.125"
    assert out["labour_ticket_rate_fen"] == 200_000 and out["collective_cap_applies"] is True
    assert db.session.get(Cooperative, out["id"]).credit_code == body["credit_code"]
    actions = db.session.execute(db.select(AuditEntry.action)).scalars().all()
    assert "cooperative.create" in actions


def test_a_lower_case_credit_code_is_stored_upper_case(client, world):
    code = valid_credit_code()
    lower = code.lower()
    response = client.post("/api/v1/cooperatives", headers=world.admin,
                           json=coop_body(world.village.id, credit_code=lower))
    assert response.status_code == 201
    assert response.get_json()["credit_code"] == code


def test_bad_credit_code_check_character_is_422_credit_code_invalid(client, world):
    code = valid_credit_code()
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    response = client.post("/api/v1/cooperatives", headers=world.admin,
                           json=coop_body(world.village.id, credit_code=wrong))
    assert response.status_code == 422
    assert response.get_json()["code"] == "CREDIT_CODE_INVALID"


def test_a_credit_code_registered_twice_is_refused(client, world):
    response = client.post("/api/v1/cooperatives", headers=world.admin,
                           json=coop_body(world.village.id, credit_code=world.coop.credit_code))
    assert response.status_code == 422
    assert response.get_json()["code"] == "CREDIT_CODE_TAKEN"


def test_a_village_of_another_county_is_not_found(client, world, make):
    elsewhere = make.village(make.town(make.county()))
    response = client.post("/api/v1/cooperatives", headers=world.admin,
                           json=coop_body(elsewhere.id))
    assert response.status_code == 404


def test_the_zone_must_contain_the_village(client, world, make):
    inside = [make.village(world.town) for _ in range(3)]
    zone = make.zone(inside)
    refused = client.post("/api/v1/cooperatives", headers=world.admin,
                          json=coop_body(world.village.id, zone_id=zone.id))
    assert refused.status_code == 422
    assert refused.get_json()["code"] == "ZONE_MISMATCH"
    accepted = client.post("/api/v1/cooperatives", headers=world.admin,
                           json=coop_body(inside[1].id, zone_id=zone.id))
    assert accepted.status_code == 201
    assert accepted.get_json()["zone_id"] == zone.id


def test_only_county_admin_registers(client, world):
    for headers in (world.manager, world.reader):
        response = client.post("/api/v1/cooperatives", headers=headers,
                               json=coop_body(world.village.id))
        assert response.status_code == 403


def test_charter_values_are_validated(client, world):
    for bad in ({"single_member_cap_rate": 0.2}, {"single_member_cap_rate": "0"},
                {"single_member_cap_rate": "1.5"}, {"single_member_cap_rate": "0.12345"},
                {"land_rate_fen_per_mu": -1}, {"land_rate_fen_per_mu": 10.5},
                {"distribution_method": "equal"}, {"status": "shell"}, {"owner": "me"}):
        response = client.post("/api/v1/cooperatives", headers=world.admin,
                               json=coop_body(world.village.id, **bad))
        assert response.status_code == 422, bad


def test_list_is_scoped_to_the_callers_county_and_cooperative(client, world, make):
    elsewhere = make.cooperative(county=make.county())
    ids = {c["id"] for c in client.get("/api/v1/cooperatives",
                                       headers=world.reader).get_json()["items"]}
    assert ids == {world.coop.id, world.other.id}
    mine = client.get("/api/v1/cooperatives", headers=world.manager).get_json()
    assert [c["id"] for c in mine["items"]] == [world.coop.id] and mine["total"] == 1
    asked = client.get(f"/api/v1/cooperatives?county_id={elsewhere.county_id}",
                       headers=world.reader).get_json()
    assert asked["items"] == [] and asked["total"] == 0


def test_list_filters_by_town_status_and_name(client, world, make, db):
    second_town = make.town(world.county)
    there = make.cooperative(village=make.village(second_town), name="黄岗镇李堂村果蔬合作社")
    world.other.status = "shell"
    db.session.commit()

    def ids(query):
        response = client.get(f"/api/v1/cooperatives?{query}", headers=world.admin)
        assert response.status_code == 200
        return {c["id"] for c in response.get_json()["items"]}

    assert ids(f"town_id={second_town.id}") == {there.id}
    assert ids("status=shell") == {world.other.id}
    assert ids("q=果蔬") == {there.id}
    assert ids("q=%25") == set()  # a LIKE wildcard is searched for literally
    assert client.get("/api/v1/cooperatives?status=zombie",
                      headers=world.admin).status_code == 422


def test_manager_changes_charter_but_not_registration(client, world):
    url = f"/api/v1/cooperatives/{world.coop.id}"
    ok = client.patch(url, headers=world.manager,
                      json={"distribution_method": "by_shares", "single_member_cap_rate": "0.3"})
    assert ok.status_code == 200
    assert ok.get_json()["distribution_method"] == "by_shares"
    assert ok.get_json()["single_member_cap_rate"] == "0.30"
    refused = client.patch(url, headers=world.manager, json={"name": "改名"})
    assert refused.status_code == 403
    assert client.patch(url, headers=world.manager, json={"status": "closed"}).status_code == 422


def test_county_admin_moves_a_cooperative_within_the_county_only(client, world, make):
    url = f"/api/v1/cooperatives/{world.coop.id}"
    new_village = make.village(make.town(world.county))
    moved = client.patch(url, headers=world.admin, json={"village_id": new_village.id,
                                                         "name": "新名称"})
    assert moved.status_code == 200
    assert moved.get_json()["town_id"] == new_village.town_id
    elsewhere = make.village(make.town(make.county()))
    assert client.patch(url, headers=world.admin,
                        json={"village_id": elsewhere.id}).status_code == 404


def test_readers_cannot_patch(client, world):
    url = f"/api/v1/cooperatives/{world.coop.id}"
    assert client.patch(url, headers=world.reader,
                        json={"industry": "养殖"}).status_code == 403


def test_a_manager_cannot_see_or_change_another_cooperative(client, world):
    url = f"/api/v1/cooperatives/{world.other.id}"
    assert client.get(url, headers=world.manager).status_code == 404
    assert client.patch(url, headers=world.manager,
                        json={"industry": "养殖"}).status_code == 404
    assert client.get(url + "/compliance", headers=world.manager).status_code == 404
