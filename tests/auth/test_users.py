"""Users, roles and scopes: /auth/login, /me, /users (county_admin of their own county)."""
from __future__ import annotations

import json

import pytest

from auth.models import User
from coop.audit import AuditEntry
from tests.auth.conftest import PASSWORD, bearer, login


def new_user(**overrides) -> dict:
    body = {"phone": "13812345678", "name": "刘财务", "password": "long-enough-pw",
            "roles": []}
    body.update(overrides)
    return body


def role(role_name: str, scope_type: str, scope_id: int, **extra) -> dict:
    return {"role": role_name, "scope_type": scope_type, "scope_id": scope_id, **extra}


@pytest.fixture
def admin_headers(admin_tokens):
    return bearer(admin_tokens["access_token"])


# --- login and /me ------------------------------------------------------------------------

def test_login_returns_tokens_and_the_user_without_secrets(client, admin):
    response = login(client, admin.phone)
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["user"]["phone"] == admin.phone
    assert body["user"]["roles"][0]["role"] == "county_admin"
    assert "password" not in response.get_data(as_text=True)
    assert "argon2" not in response.get_data(as_text=True)


@pytest.mark.parametrize("phone,password", [
    ("15000000001", "wrong password"),
    ("15999999999", PASSWORD),  # nobody has this phone
])
def test_bad_credentials_look_the_same(client, admin, phone, password):
    response = login(client, phone, password)
    assert response.status_code == 401
    assert response.get_json()["code"] == "BAD_CREDENTIALS"


def test_users_without_a_password_or_disabled_cannot_log_in(client, db, make, admin):
    wechat_only = make.user("county_finance", make.county(), password=None)
    assert login(client, wechat_only.phone, "").status_code == 422
    assert login(client, wechat_only.phone, "anything-at-all").get_json()["code"] == \
        "BAD_CREDENTIALS"
    admin.status = "disabled"
    db.session.commit()
    assert login(client, admin.phone).get_json()["code"] == "BAD_CREDENTIALS"


def test_login_rejects_unknown_fields(client, admin):
    response = client.post("/api/v1/auth/login",
                           json={"phone": admin.phone, "password": PASSWORD, "admin": True})
    assert response.status_code == 422


def test_me_shows_roles_with_department(client, make, county):
    _, headers = make.login("county_reviewer", county, department="agriculture")
    body = client.get("/api/v1/me", headers=headers).get_json()
    assert body["roles"][0]["department"] == "agriculture"
    assert set(body) >= {"id", "name", "phone", "roles"}


def test_wrong_old_password_is_refused_and_changes_nothing(client, admin, admin_headers):
    response = client.post("/api/v1/me/password", headers=admin_headers,
                           json={"old_password": "not it at all", "new_password": "new-pw-123"})
    assert response.status_code == 422
    assert response.get_json()["code"] == "WRONG_PASSWORD"
    assert client.get("/api/v1/me", headers=admin_headers).status_code == 200


def test_a_short_new_password_is_refused(client, admin_headers):
    response = client.post("/api/v1/me/password", headers=admin_headers,
                           json={"old_password": PASSWORD, "new_password": "short"})
    assert response.status_code == 422


# --- creating users -----------------------------------------------------------------------

def test_county_admin_creates_staff_of_their_county_who_can_log_in(client, db, admin_headers,
                                                                    county):
    body = new_user(roles=[role("county_reviewer", "county", county.id,
                                department="finance")])
    response = client.post("/api/v1/users", headers=admin_headers, json=body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["id"] and created["roles"][0]["department"] == "finance"
    assert "password" not in json.dumps(created)
    assert login(client, "13812345678", "long-enough-pw").status_code == 200


def test_county_admin_creates_a_coop_manager_without_a_password(client, make, admin_headers,
                                                                 county):
    coop = make.cooperative(county=county)
    body = new_user(roles=[role("coop_manager", "cooperative", coop.id)])
    del body["password"]
    response = client.post("/api/v1/users", headers=admin_headers, json=body)
    assert response.status_code == 201
    assert login(client, "13812345678", "any-password-x").status_code == 401


@pytest.mark.parametrize("target", ["county", "cooperative"])
def test_roles_outside_the_admins_county_are_not_found(client, make, admin_headers, target):
    other = make.county()
    scope = other if target == "county" else make.cooperative(county=other)
    name = "county_finance" if target == "county" else "coop_manager"
    response = client.post("/api/v1/users", headers=admin_headers,
                           json=new_user(roles=[role(name, target, scope.id)]))
    assert response.status_code == 404


@pytest.mark.parametrize("bad_role,code", [
    (lambda c: role("member", "member", 1), "VALIDATION_FAILED"),  # scope resolved below
    (lambda c: role("county_finance", "cooperative", c.id), "VALIDATION_FAILED"),
    (lambda c: role("county_reviewer", "county", c.id), "VALIDATION_FAILED"),
    (lambda c: role("county_finance", "county", c.id, department="finance"),
     "VALIDATION_FAILED"),
    (lambda c: role("superuser", "county", c.id), "VALIDATION_FAILED"),
    (lambda c: role("county_finance", "county", True), "VALIDATION_FAILED"),
])
def test_malformed_roles_are_refused(client, make, admin_headers, county, bad_role, code):
    spec = bad_role(county)
    if spec["role"] == "member":
        member = make.member(make.cooperative(county=county))
        spec["scope_id"] = member.id
        code = "ROLE_NOT_ASSIGNABLE"
    response = client.post("/api/v1/users", headers=admin_headers, json=new_user(roles=[spec]))
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["code"] == code


@pytest.mark.parametrize("field,value", [
    ("phone", "12345"), ("phone", "1380013800０"), ("phone", "13800138000\n"),
    ("name", ""), ("password", "short"), ("roles", []), ("is_superuser", True),
])
def test_invalid_user_bodies_are_refused(client, admin_headers, county, field, value):
    body = new_user(roles=[role("county_finance", "county", county.id)])
    body[field] = value
    response = client.post("/api/v1/users", headers=admin_headers, json=body)
    assert response.status_code == 422


def test_a_phone_is_unique(client, admin, admin_headers, county):
    body = new_user(phone=admin.phone, roles=[role("county_finance", "county", county.id)])
    response = client.post("/api/v1/users", headers=admin_headers, json=body)
    assert response.status_code == 409
    assert response.get_json()["code"] == "PHONE_TAKEN"


@pytest.mark.parametrize("role_name", ["county_finance", "coop_manager", "member"])
def test_only_county_admins_manage_users(client, make, county, role_name):
    scope = {"county_finance": county,
             "coop_manager": make.cooperative(county=county)}.get(role_name)
    if role_name == "member":
        scope = make.member(make.cooperative(county=county))
    _, headers = make.login(role_name, scope)
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    body = new_user(roles=[role("county_finance", "county", county.id)])
    assert client.post("/api/v1/users", headers=headers, json=body).status_code == 403


def test_user_creation_is_audited_without_the_password(client, db, admin, admin_headers,
                                                       county):
    body = new_user(roles=[role("county_finance", "county", county.id)])
    created = client.post("/api/v1/users", headers=admin_headers, json=body).get_json()
    entry = db.session.execute(db.select(AuditEntry).where(
        AuditEntry.action == "user.create")).scalar_one()
    assert entry.actor_id == admin.id and entry.object_id == str(created["id"])
    assert "long-enough-pw" not in entry.after and "argon2" not in entry.after


# --- listing and role management ----------------------------------------------------------

def test_user_list_is_scoped_to_the_admins_county(client, make, admin, admin_headers, county):
    coop = make.cooperative(county=county)
    member = make.member(coop)
    other_county = make.county()
    inside = [make.user("county_finance", county), make.user("coop_manager", coop),
              make.user("member", member)]
    outside = make.user("county_admin", other_county)
    both = make.user("commissioner", coop, roles=[("county_finance", other_county)])
    response = client.get("/api/v1/users?per_page=100", headers=admin_headers)
    assert response.status_code == 200
    body = response.get_json()
    ids = {u["id"] for u in body["items"]}
    assert ids == {admin.id, both.id} | {u.id for u in inside}
    assert outside.id not in ids and body["total"] == len(ids)
    shown = next(u for u in body["items"] if u["id"] == both.id)
    # The other county's role of a shared user is not shown.
    assert [r["role"] for r in shown["roles"]] == ["commissioner"]


def test_user_list_search(client, make, admin_headers, county):
    make.user("county_finance", county, name="赵会计")
    make.user("county_finance", county, name="钱出纳")
    body = client.get("/api/v1/users?q=赵", headers=admin_headers).get_json()
    assert [u["name"] for u in body["items"]] == ["赵会计"]
    assert client.get("/api/v1/users?q=%25", headers=admin_headers).get_json()["total"] == 0


def test_grant_and_revoke_a_role(client, make, admin_headers, county):
    coop = make.cooperative(county=county)
    user = make.user("county_finance", county)
    granted = client.post(f"/api/v1/users/{user.id}/roles", headers=admin_headers,
                          json=role("commissioner", "cooperative", coop.id))
    assert granted.status_code == 201
    assert granted.get_json()["role"] == "commissioner"
    again = client.post(f"/api/v1/users/{user.id}/roles", headers=admin_headers,
                        json=role("commissioner", "cooperative", coop.id))
    assert again.status_code == 409 and again.get_json()["code"] == "ROLE_EXISTS"

    headers = make.headers(user)
    assert client.get(f"/api/v1/counties/{county.id}", headers=headers).status_code == 200
    finance_role = next(r for r in user.roles if r.role == "county_finance")
    response = client.delete(f"/api/v1/users/{user.id}/roles/{finance_role.id}",
                             headers=admin_headers)
    assert response.status_code == 204
    # The change applies to the tokens already issued, at the next request.
    assert client.get(f"/api/v1/counties/{county.id}", headers=headers).status_code == 403


def test_roles_of_users_outside_the_county_cannot_be_touched(client, make, admin_headers,
                                                             county):
    other = make.county()
    stranger = make.user("county_finance", other)
    response = client.post(f"/api/v1/users/{stranger.id}/roles", headers=admin_headers,
                           json=role("county_finance", "county", county.id))
    assert response.status_code == 404
    assert client.get(f"/api/v1/users/{stranger.id}", headers=admin_headers).status_code == 404
    shared = make.user("county_finance", county, roles=[("county_finance", other)])
    other_role = next(r for r in shared.roles if r.scope_id == other.id)
    response = client.delete(f"/api/v1/users/{shared.id}/roles/{other_role.id}",
                             headers=admin_headers)
    assert response.status_code == 404


def test_the_last_county_admin_cannot_be_removed(client, admin, admin_headers):
    own_role = admin.roles[0]
    response = client.delete(f"/api/v1/users/{admin.id}/roles/{own_role.id}",
                             headers=admin_headers)
    assert response.status_code == 409
    assert response.get_json()["code"] == "LAST_COUNTY_ADMIN"


def test_a_superuser_manages_users_in_any_county(client, make, db):
    boss = make.user(superuser=True)
    headers = make.headers(boss)
    county = make.county()
    body = new_user(roles=[role("county_admin", "county", county.id)])
    response = client.post("/api/v1/users", headers=headers, json=body)
    assert response.status_code == 201
    listed = client.get("/api/v1/users", headers=headers).get_json()
    assert {u["id"] for u in listed["items"]} == {boss.id, response.get_json()["id"]}
    assert db.session.get(User, response.get_json()["id"]).is_superuser is False
