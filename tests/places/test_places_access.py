"""BOLA: another county's places are 404 to a county_admin; non-county roles get 403."""
from __future__ import annotations

import pytest

API = "/api/v1"


@pytest.fixture
def world(make):
    """Two counties, each with a town, six villages and a zone."""
    out = {}
    for key in ("a", "b"):
        county = make.county()
        town = make.town(county)
        villages = [make.village(town) for _ in range(6)]
        zone = make.zone(villages[:3])
        out[key] = {"county": county, "town": town, "villages": villages, "zone": zone}
    return out


def reads(w) -> list[str]:
    return [f"{API}/counties/{w['county'].id}", f"{API}/counties/{w['county'].id}/towns",
            f"{API}/towns/{w['town'].id}", f"{API}/towns/{w['town'].id}/villages",
            f"{API}/villages/{w['villages'][0].id}", f"{API}/counties/{w['county'].id}/zones",
            f"{API}/zones/{w['zone'].id}"]


def writes(w, town=None) -> list[tuple[str, dict]]:
    town = town or w["town"]
    free = w["villages"][3:6]
    return [
        (f"{API}/counties/{w['county'].id}/towns", {"name": "新镇"}),
        (f"{API}/towns/{w['town'].id}/villages",
         {"name": "新村", "code": w["county"].code + "009009"}),
        (f"{API}/counties/{w['county'].id}/zones",
         {"name": "新片区", "town_id": town.id, "village_ids": [v.id for v in free]}),
    ]


def test_county_admin_of_a_reads_and_writes_their_own_places(client, make, world):
    _, headers = make.login("county_admin", world["a"]["county"])
    for url in reads(world["a"]):
        assert client.get(url, headers=headers).status_code == 200, url
    for url, body in writes(world["a"]):
        assert client.post(url, headers=headers, json=body).status_code == 201, url


@pytest.mark.parametrize("role", ["county_admin", "county_finance"])
def test_county_b_places_are_not_found_for_county_a(client, make, world, role):
    _, headers = make.login(role, world["a"]["county"])
    for url in reads(world["b"]):
        response = client.get(url, headers=headers)
        assert response.status_code == 404, url
        assert response.get_json()["code"] == "NOT_FOUND"
    # Writing: the admin is told "not found"; a read-only role is refused by role first.
    expected = 404 if role == "county_admin" else 403
    for url, body in writes(world["b"]):
        assert client.post(url, headers=headers, json=body).status_code == expected, url


def test_a_zone_in_county_a_cannot_take_county_b_villages_or_town(client, make, world):
    _, headers = make.login("county_admin", world["a"]["county"])
    a, b = world["a"], world["b"]
    url = f"{API}/counties/{a['county'].id}/zones"
    with_b_town = {"name": "越界", "town_id": b["town"].id,
                   "village_ids": [v.id for v in b["villages"][3:]]}
    assert client.post(url, headers=headers, json=with_b_town).status_code == 404
    with_b_villages = {"name": "越界", "town_id": a["town"].id,
                       "village_ids": [v.id for v in b["villages"][3:]]}
    assert client.post(url, headers=headers, json=with_b_villages).status_code == 404


def test_county_list_never_shows_another_county(client, make, world):
    _, headers = make.login("county_admin", world["a"]["county"])
    body = client.get(f"{API}/counties", headers=headers).get_json()
    assert [c["id"] for c in body["items"]] == [world["a"]["county"].id]


@pytest.mark.parametrize("role", ["coop_manager", "commissioner", "member"])
def test_cooperative_and_member_roles_may_not_call_county_routes(client, make, world, role):
    coop = make.cooperative(village=world["a"]["villages"][0])
    scope = make.member(coop) if role == "member" else coop
    _, headers = make.login(role, scope)
    for url in reads(world["a"]) + [f"{API}/counties"]:
        response = client.get(url, headers=headers)
        assert response.status_code == 403, url
        assert response.get_json()["code"] == "FORBIDDEN"
    for url, body in writes(world["a"]):
        assert client.post(url, headers=headers, json=body).status_code == 403, url


def test_anonymous_callers_are_401(client, world):
    for url in reads(world["a"]):
        assert client.get(url).status_code == 401
