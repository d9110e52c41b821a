"""GET /audit: a county_admin reads the trail of an object of their own county only."""
from __future__ import annotations


def trail(client, headers, object_type, object_id=None):
    query = f"object_type={object_type}" + (f"&object_id={object_id}" if object_id else "")
    return client.get(f"/api/v1/audit?{query}", headers=headers)


def create_member(client, headers, coop, name, seq):
    from tests.factories import valid_id_card
    response = client.post(f"/api/v1/cooperatives/{coop.id}/members", headers=headers, json={
        "name": name, "member_type": "farmer", "id_card_no": valid_id_card(seq),
        "joined_on": "2024-01-01"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_admin_reads_own_county_trails_and_not_another_countys(client, make):
    home, away = make.county(), make.county(name="曹县")
    coop_home, coop_away = make.cooperative(county=home), make.cooperative(county=away)
    _, admin = make.login("county_admin", home)
    _, manager_home = make.login("coop_manager", coop_home)
    _, manager_away = make.login("coop_manager", coop_away)
    mine = create_member(client, manager_home, coop_home, "王建国", 11)
    theirs = create_member(client, manager_away, coop_away, "外县成员", 12)

    own = trail(client, admin, "member", mine)
    assert own.status_code == 200
    assert [e["action"] for e in own.get_json()["items"]] == ["member.create"]

    foreign = trail(client, admin, "member", theirs)
    assert foreign.status_code == 404
    assert "外县成员" not in foreign.get_data(as_text=True)


def test_a_whole_type_is_a_superusers_listing_only(client, make):
    home = make.county()
    _, admin = make.login("county_admin", home)
    response = trail(client, admin, "member")
    assert response.status_code == 422
    assert "object_id" in response.get_json()["errors"]
    root = make.headers(make.user(superuser=True))
    assert trail(client, root, "member").status_code == 200


def test_users_trail_follows_user_management_scope(client, make):
    home, away = make.county(), make.county(name="曹县")
    _, admin = make.login("county_admin", home)
    _, other_admin = make.login("county_admin", away)
    created = client.post("/api/v1/users", headers=other_admin, json={
        "phone": "13712345678", "name": "外县委员", "password": "a-strong-password-1",
        "roles": [{"role": "county_finance", "scope_type": "county", "scope_id": away.id}]})
    assert created.status_code == 201, created.get_json()
    user_id = created.get_json()["id"]
    assert trail(client, admin, "user", user_id).status_code == 404
    own_trail = trail(client, other_admin, "user", user_id)
    assert own_trail.status_code == 200
    body = own_trail.get_data(as_text=True)
    # The chain is kept for ever: a staff phone goes in masked.
    assert "13712345678" not in body and "137****5678" in body


def test_unknown_types_and_bad_ids_are_404_for_county_admins(client, make):
    _, admin = make.login("county_admin", make.county())
    assert trail(client, admin, "token_family", 1).status_code == 404
    assert trail(client, admin, "member", "abc").status_code == 404
    # Digits by Unicode but not by int(), and ids beyond BIGINT: still 404, never 500.
    for odd in ("²", "١٢", "9" * 30):
        assert trail(client, admin, "member", odd).status_code == 404
        assert trail(client, admin, "user", odd).status_code == 404
