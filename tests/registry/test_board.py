"""Officers, professional managers and commissioners."""
from __future__ import annotations

from tests.factories import valid_id_card

from auth.models import RoleAssignment


def person(id_card: str, name: str = "李书记", phone: str = "13900001111") -> dict:
    return {"name": name, "id_card_no": id_card, "phone": phone}


def officer(client, world, id_card, role="director", start="2021-01-01", end=None,
            committee=True, headers=None):
    body = {"person": person(id_card), "role": role, "village_committee_member": committee,
            "start_on": start}
    if end:
        body["end_on"] = end
    return client.post(f"/api/v1/cooperatives/{world.coop.id}/officers",
                       headers=headers or world.manager, json=body)


def manager(client, world, id_card, start, end, headers=None, **extra):
    body = {"person": person(id_card, "赵晓东"), "contract_start": start, "contract_end": end,
            "base_pay_fen_per_year": 6_000_000, **extra}
    return client.post(f"/api/v1/cooperatives/{world.coop.id}/managers",
                       headers=headers or world.manager, json=body)


def test_manager_seats_officers_and_readers_see_them_masked(client, world):
    chair_card = valid_id_card()
    created = officer(client, world, chair_card, role="chair")
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["current"] is True
    listed = client.get(f"/api/v1/cooperatives/{world.coop.id}/officers", headers=world.reader)
    item = listed.get_json()["items"][0]
    assert item["person"]["id_card_no"] == f"{chair_card[:6]}********{chair_card[-4:]}"
    assert item["person"]["phone"] == "139****1111"
    assert chair_card not in listed.get_data(as_text=True)
    one = client.get(f"/api/v1/officers/{created.get_json()['id']}", headers=world.manager)
    assert one.get_json()["person"]["phone"] == "13900001111"
    assert chair_card not in one.get_data(as_text=True)


def test_officer_id_card_checksum_and_term_are_checked(client, world):
    good = valid_id_card()
    bad = officer(client, world, good[:17] + ("0" if good[17] != "0" else "1"))
    assert (bad.status_code, bad.get_json()["code"]) == (422, "ID_CARD_INVALID")
    backwards = officer(client, world, valid_id_card(), start="2022-01-01", end="2021-01-01")
    assert backwards.status_code == 422
    assert officer(client, world, valid_id_card(), role="treasurer").status_code == 422


def test_one_chair_at_a_time_but_a_successor_may_follow(client, world):
    assert officer(client, world, valid_id_card(), role="chair", start="2018-01-01",
                   end="2020-12-31").status_code == 201
    clash = officer(client, world, valid_id_card(), role="chair", start="2020-06-01")
    assert (clash.status_code, clash.get_json()["code"]) == (422, "OFFICE_OCCUPIED")
    assert officer(client, world, valid_id_card(), role="chair",
                   start="2021-01-01").status_code == 201


def test_a_director_may_not_also_be_a_supervisor(client, world):
    card = valid_id_card()
    assert officer(client, world, card, role="director").status_code == 201
    clash = officer(client, world, card, role="supervisor")
    assert (clash.status_code, clash.get_json()["code"]) == (422, "OFFICES_INCOMPATIBLE")


def test_ending_a_term_via_patch(client, world):
    created = officer(client, world, valid_id_card(), role="director").get_json()
    ended = client.patch(f"/api/v1/officers/{created['id']}", headers=world.manager,
                         json={"end_on": "2022-12-31"})
    assert ended.status_code == 200
    assert (ended.get_json()["end_on"], ended.get_json()["current"]) == ("2022-12-31", False)
    assert client.patch(f"/api/v1/officers/{created['id']}", headers=world.manager,
                        json={"end_on": "2020-01-01"}).status_code == 422


def test_professional_manager_contracts_of_one_person_may_not_overlap(client, world):
    card = valid_id_card()
    first = manager(client, world, card, "2022-01-01", "2023-12-31", bonus_rate="0.05")
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["bonus_rate"] == "0.05"
    assert first.get_json()["base_pay_fen_per_year"] == 6_000_000
    assert card not in first.get_data(as_text=True)
    overlap = manager(client, world, card, "2023-12-31", "2025-12-31")
    assert (overlap.status_code, overlap.get_json()["code"]) == (422, "CONTRACT_OVERLAP")
    assert manager(client, world, card, "2024-01-01", "2025-12-31").status_code == 201
    assert manager(client, world, valid_id_card(), "2023-06-01",
                   "2024-06-01").status_code == 201  # another person
    backwards = manager(client, world, valid_id_card(), "2024-01-01", "2023-01-01")
    assert backwards.status_code == 422
    listed = client.get(f"/api/v1/cooperatives/{world.coop.id}/managers",
                        headers=world.reader).get_json()
    assert listed["total"] == 3
    assert all(card not in str(item) for item in listed["items"])


def test_extending_a_contract_into_another_is_refused(client, world):
    card = valid_id_card()
    first = manager(client, world, card, "2022-01-01", "2022-12-31").get_json()
    manager(client, world, card, "2023-01-01", "2023-12-31")
    response = client.patch(f"/api/v1/managers/{first['id']}", headers=world.manager,
                            json={"contract_end": "2023-03-31"})
    assert response.get_json()["code"] == "CONTRACT_OVERLAP"
    paid = client.patch(f"/api/v1/managers/{first['id']}", headers=world.manager,
                        json={"base_pay_fen_per_year": 7_200_000, "bonus_rate": "0.1"})
    assert paid.status_code == 200 and paid.get_json()["bonus_rate"] == "0.10"


def test_bad_pay_and_bonus_are_refused(client, world):
    for extra in ({"base_pay_fen_per_year": -1}, {"base_pay_fen_per_year": 1.5},
                  {"bonus_rate": 0.1}, {"bonus_rate": "2"}):
        body = {"person": person(valid_id_card()), "contract_start": "2024-01-01",
                "contract_end": "2024-12-31", "base_pay_fen_per_year": 100, **extra}
        response = client.post(f"/api/v1/cooperatives/{world.coop.id}/managers",
                               headers=world.manager, json=body)
        assert response.status_code == 422, extra


def test_county_admin_pairs_a_county_user_as_commissioner(client, world, make, db):
    expert, expert_headers = make.login("county_reviewer", world.county,
                                        department="agriculture")
    url = f"/api/v1/cooperatives/{world.coop.id}/commissioners"
    paired = client.post(url, headers=world.admin, json={"user_id": expert.id})
    assert paired.status_code == 201, paired.get_json()
    assert paired.get_json()["user_id"] == expert.id
    grant = db.session.execute(db.select(RoleAssignment).where(
        RoleAssignment.role == "commissioner")).scalar_one()
    assert (grant.scope_type, grant.scope_id, grant.user_id) == (
        "cooperative", world.coop.id, expert.id)
    listed = client.get(url, headers=world.manager).get_json()
    assert [c["user_id"] for c in listed["items"]] == [expert.id]
    again = client.post(url, headers=world.admin, json={"user_id": expert.id})
    assert again.status_code == 422
    assert client.delete(f"{url}/{expert.id}", headers=world.admin).status_code == 204
    assert client.get(url, headers=world.manager).get_json()["total"] == 0


def test_only_county_users_of_the_same_county_can_be_commissioners(client, world, make):
    url = f"/api/v1/cooperatives/{world.coop.id}/commissioners"
    outsider = make.user("county_reviewer", make.county(), department="finance")
    manager_user = make.user("coop_manager", world.other)
    for user_id in (outsider.id, manager_user.id, 999_999):
        response = client.post(url, headers=world.admin, json={"user_id": user_id})
        assert (response.status_code, response.get_json()["code"]) == (
            422, "COMMISSIONER_INVALID")
    assert client.post(url, headers=world.manager,
                       json={"user_id": outsider.id}).status_code == 403


def test_a_commissioner_reads_their_cooperative_only_and_writes_nothing(client, world, make):
    headers = make.login("commissioner", world.coop)[1]
    base = f"/api/v1/cooperatives/{world.coop.id}"
    for path in ("", "/officers", "/managers", "/members", "/compliance", "/status-changes",
                 "/commissioners"):
        assert client.get(base + path, headers=headers).status_code == 200, path
    assert client.get(f"/api/v1/cooperatives/{world.other.id}",
                      headers=headers).status_code == 404
    assert officer(client, world, valid_id_card(), headers=headers).status_code == 403
    assert manager(client, world, valid_id_card(), "2024-01-01", "2024-12-31",
                   headers=headers).status_code == 403
    assert client.patch(base, headers=headers, json={"industry": "x"}).status_code == 403
    assert client.post(base + "/commissioners", headers=headers,
                       json={"user_id": 1}).status_code == 403


def test_another_cooperatives_manager_cannot_touch_the_board(client, world):
    created = officer(client, world, valid_id_card()).get_json()
    assert officer(client, world, valid_id_card(),
                   headers=world.manager_b).status_code == 404
    assert client.get(f"/api/v1/officers/{created['id']}",
                      headers=world.manager_b).status_code == 404
    assert client.patch(f"/api/v1/officers/{created['id']}", headers=world.manager_b,
                        json={"end_on": "2024-01-01"}).status_code == 404
