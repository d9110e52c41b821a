"""Zones sized by a county setting (default 3–5 villages) and editable (PATCH /zones/{id})."""
from __future__ import annotations

from coop.places import settings
from coop.transaction import unit_of_work


def _villages(make, town, n, prefix="村"):
    return [make.village(town, name=f"{prefix}{i}", secretary=f"{prefix}书记{i}")
            for i in range(n)]


def test_a_zone_of_ten_villages_once_the_county_allows_it(client, db, make):
    county = make.county(name="汶上县")
    town = make.town(county)
    villages = _villages(make, town, 10)
    headers = make.login("county_admin", county)[1]
    body = {"name": "十村片区", "town_id": town.id, "village_ids": [v.id for v in villages]}
    refused = client.post(f"/api/v1/counties/{county.id}/zones", headers=headers, json=body)
    assert refused.status_code == 422
    assert refused.get_json()["code"] == "ZONE_VILLAGES_INVALID"
    with unit_of_work(db.session):
        settings.set_zone_size(db.session, None, county.id, 8, 12)
    made = client.post(f"/api/v1/counties/{county.id}/zones", headers=headers, json=body)
    assert made.status_code == 201, made.get_json()
    assert len(made.get_json()["village_ids"]) == 10
    three = client.post(f"/api/v1/counties/{county.id}/zones", headers=headers, json={
        "name": "小片区", "town_id": town.id,
        "village_ids": [v.id for v in _villages(make, town, 3, "小")]})
    assert three.status_code == 422       # below this county's minimum


def test_patch_changes_villages_name_and_secretary(client, db, make):
    county = make.county()
    town = make.town(county)
    villages = _villages(make, town, 6)
    headers = make.login("county_admin", county)[1]
    zone = client.post(f"/api/v1/counties/{county.id}/zones", headers=headers, json={
        "name": "东片区", "town_id": town.id, "village_ids": [v.id for v in villages[:3]],
        "secretary_name": "村书记0"}).get_json()
    url = f"/api/v1/zones/{zone['id']}"
    patched = client.patch(url, headers=headers, json={
        "name": "东部片区", "village_ids": [villages[i].id for i in (1, 3, 4, 5)],
        "secretary_name": "村书记4"})
    assert patched.status_code == 200, patched.get_json()
    out = patched.get_json()
    assert out["name"] == "东部片区" and out["secretary_name"] == "村书记4"
    assert out["village_ids"] == sorted(villages[i].id for i in (1, 3, 4, 5))
    # village 0 left the zone: another zone may take it
    again = client.post(f"/api/v1/counties/{county.id}/zones", headers=headers, json={
        "name": "西片区", "town_id": town.id,
        "village_ids": [villages[0].id] + [v.id for v in _villages(make, town, 2, "西")]})
    assert again.status_code == 201, again.get_json()
    # the secretary must be a secretary of the zone's villages as they are after the change
    wrong = client.patch(url, headers=headers, json={"village_ids": [villages[i].id
                                                                      for i in (1, 3, 5)]})
    assert wrong.status_code == 422 and wrong.get_json()["code"] == "ZONE_SECRETARY_INVALID"
    taken = client.patch(url, headers=headers, json={"village_ids": [villages[0].id,
                                                                      villages[4].id,
                                                                      villages[5].id]})
    assert taken.status_code == 422 and taken.get_json()["code"] == "VILLAGE_ALREADY_IN_ZONE"
    assert client.get(url, headers=headers).get_json() == out      # refusals change nothing
    log = client.get("/api/v1/audit", headers=headers,
                     query_string={"object_type": "zone", "object_id": zone["id"]}).get_json()
    assert [e["action"] for e in log["items"]] == ["zone.create", "zone.update"]


def test_only_the_county_admin_edits_a_zone(client, db, make):
    county = make.county()
    town = make.town(county)
    zone = make.zone(_villages(make, town, 3))
    finance = make.login("county_finance", county)[1]
    response = client.patch(f"/api/v1/zones/{zone.id}", headers=finance, json={"name": "改"})
    assert response.status_code == 403
    other = make.login("county_admin", make.county(name="外县"))[1]
    assert client.patch(f"/api/v1/zones/{zone.id}", headers=other,
                        json={"name": "改"}).status_code == 404


def test_the_zone_size_setting_is_checked(db, make):
    county = make.county()
    import pytest
    from coop.errors import RuleViolation
    for low, high in ((0, 5), (6, 5), (3, 31)):
        with pytest.raises(RuleViolation):
            with unit_of_work(db.session):
                settings.set_zone_size(db.session, None, county.id, low, high)
    assert settings.zone_size(db.session, county.id) == (3, 5)
