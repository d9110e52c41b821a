"""WeChat login end to end against a real fake WeChat server on a localhost port."""
from __future__ import annotations

import logging
import socket

import pytest

from auth.models import RoleAssignment, User, WechatBinding
from tests.auth.conftest import bearer
from tests.auth.fake_wechat import SESSION_KEY

WX_LOGIN = "/api/v1/auth/wechat/login"
WX_BIND = "/api/v1/auth/wechat/bind"


def wx_login(client, code: str):
    return client.post(WX_LOGIN, json={"code": code})


def bind(client, bind_token: str, invite_code: str):
    return client.post(WX_BIND, json={"bind_token": bind_token, "invite_code": invite_code})


@pytest.fixture
def member_setup(make):
    county = make.county()
    coop = make.cooperative(county=county)
    member = make.member(coop, name="张三")
    _, manager_headers = make.login("coop_manager", coop)
    return coop, member, manager_headers


def invite(client, member, headers) -> str:
    response = client.post(f"/api/v1/members/{member.id}/invitations", headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["invite_code"]


def test_first_login_of_an_unknown_openid_gives_a_bind_token(client, db, wechat, app):
    response = wx_login(client, "ok:openid-1")
    assert response.status_code == 200
    body = response.get_json()
    assert body["bound"] is False
    assert body["bind_token"] and 0 < body["expires_in"] <= 900
    assert "access_token" not in body
    sent = wechat[-1]
    assert sent["path"] == "/sns/jscode2session"
    assert sent["appid"] == app.config["WECHAT_APPID"]
    assert sent["secret"] == app.config["WECHAT_SECRET"]
    assert sent["js_code"] == "ok:openid-1"
    assert sent["grant_type"] == "authorization_code"


def test_member_binds_with_an_invitation_then_logs_in_directly(client, db, wechat, member_setup):
    coop, member, manager_headers = member_setup
    code = invite(client, member, manager_headers)
    bind_token = wx_login(client, "ok:openid-zhang:union-zhang").get_json()["bind_token"]

    bound = bind(client, bind_token, code)
    assert bound.status_code == 200, bound.get_json()
    body = bound.get_json()
    assert body["user"]["name"] == "张三"
    assert body["user"]["roles"] == [{"id": body["user"]["roles"][0]["id"], "role": "member",
                                      "scope_type": "member", "scope_id": member.id}]
    me = client.get("/api/v1/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200 and me.get_json()["id"] == body["user"]["id"]
    binding = db.session.execute(db.select(WechatBinding)).scalar_one()
    assert (binding.openid, binding.unionid) == ("openid-zhang", "union-zhang")

    # Next time the same WeChat account logs straight in.
    again = wx_login(client, "ok:openid-zhang")
    assert again.status_code == 200
    assert again.get_json()["bound"] is True
    assert again.get_json()["user"]["id"] == body["user"]["id"]


def test_an_invitation_works_once(client, db, wechat, member_setup):
    _, member, manager_headers = member_setup
    code = invite(client, member, manager_headers)
    first = wx_login(client, "ok:openid-a").get_json()["bind_token"]
    assert bind(client, first, code).status_code == 200
    second = wx_login(client, "ok:openid-b").get_json()["bind_token"]
    response = bind(client, second, code)
    assert response.status_code == 422
    assert response.get_json()["code"] == "INVITE_INVALID"
    assert db.session.execute(db.select(WechatBinding.openid)).scalars().all() == ["openid-a"]


@pytest.mark.parametrize("bad_code", ["WRONG-CODE1", "", "x" * 33])
def test_a_wrong_invite_code_is_invite_invalid_and_binds_nothing(client, db, wechat,
                                                                  member_setup, bad_code):
    bind_token = wx_login(client, "ok:openid-c").get_json()["bind_token"]
    response = bind(client, bind_token, bad_code)
    assert response.status_code == 422
    assert response.get_json()["code"] in ("INVITE_INVALID", "VALIDATION_FAILED")
    if bad_code == "WRONG-CODE1":
        assert response.get_json()["code"] == "INVITE_INVALID"
    assert db.session.execute(db.select(WechatBinding)).first() is None


def test_an_expired_invitation_is_invite_invalid(client, db, wechat, member_setup, app,
                                                monkeypatch):
    _, member, manager_headers = member_setup
    monkeypatch.setitem(app.config, "INVITE_TTL_HOURS", 0)
    code = invite(client, member, manager_headers)
    bind_token = wx_login(client, "ok:openid-d").get_json()["bind_token"]
    response = bind(client, bind_token, code)
    assert response.status_code == 422
    assert response.get_json()["code"] == "INVITE_INVALID"


def test_a_newer_invitation_replaces_the_older_one(client, db, wechat, member_setup):
    _, member, manager_headers = member_setup
    old = invite(client, member, manager_headers)
    new = invite(client, member, manager_headers)
    bind_token = wx_login(client, "ok:openid-e").get_json()["bind_token"]
    assert bind(client, bind_token, old).get_json()["code"] == "INVITE_INVALID"
    assert bind(client, bind_token, new.lower().replace("-", " ")).status_code == 200


def test_invite_codes_are_stored_only_as_a_keyed_hash(client, db, member_setup):
    from auth.models import Invitation
    _, member, manager_headers = member_setup
    code = invite(client, member, manager_headers)
    row = db.session.execute(db.select(Invitation)).scalar_one()
    assert code not in row.code_hash and code.replace("-", "") not in row.code_hash
    assert len(row.code_hash) == 64


def test_a_bind_token_is_not_an_access_token_and_vice_versa(client, db, wechat, member_setup):
    _, member, manager_headers = member_setup
    bind_token = wx_login(client, "ok:openid-f").get_json()["bind_token"]
    assert client.get("/api/v1/me", headers=bearer(bind_token)).status_code == 401
    access = manager_headers["Authorization"].split()[1]
    response = bind(client, access, invite(client, member, manager_headers))
    assert response.status_code == 401
    assert response.get_json()["code"] == "TOKEN_INVALID"


def test_an_openid_binds_only_once(client, db, wechat, make, member_setup):
    coop, member, manager_headers = member_setup
    bind_token = wx_login(client, "ok:openid-g").get_json()["bind_token"]
    assert bind(client, bind_token, invite(client, member, manager_headers)).status_code == 200
    other = make.member(coop)
    response = bind(client, bind_token, invite(client, other, manager_headers))
    assert response.status_code == 409
    assert response.get_json()["code"] == "WECHAT_ALREADY_BOUND"


def test_only_the_members_own_coop_manager_may_invite(client, db, make, member_setup):
    _, member, _ = member_setup
    other_coop = make.cooperative()
    _, stranger = make.login("coop_manager", other_coop)
    assert client.post(f"/api/v1/members/{member.id}/invitations",
                       headers=stranger).status_code == 404
    _, county_staff = make.login("county_admin", make.county())
    assert client.post(f"/api/v1/members/{member.id}/invitations",
                       headers=county_staff).status_code == 403


def test_coop_manager_gets_wechat_through_a_county_admin_invitation(client, db, wechat, make):
    county = make.county()
    coop = make.cooperative(county=county)
    manager = make.user("coop_manager", coop, name="李经理")
    _, admin_headers = make.login("county_admin", county)
    response = client.post(f"/api/v1/users/{manager.id}/invitations", headers=admin_headers)
    assert response.status_code == 201
    bind_token = wx_login(client, "ok:openid-li").get_json()["bind_token"]
    bound = bind(client, bind_token, response.get_json()["invite_code"])
    assert bound.status_code == 200
    assert bound.get_json()["user"]["id"] == manager.id


def test_a_county_admin_cannot_invite_a_colleague_or_another_countys_user(client, db, make):
    county = make.county()
    _, admin_headers = make.login("county_admin", county)
    colleague = make.user("county_finance", county)
    elsewhere = make.user("coop_manager", make.cooperative(county=county),
                          roles=[("coop_manager", make.cooperative())])
    for user in (colleague, elsewhere):
        response = client.post(f"/api/v1/users/{user.id}/invitations", headers=admin_headers)
        assert response.status_code == 404


def test_staff_member_binds_their_own_wechat_with_a_self_invitation(client, db, wechat, make):
    county = make.county()
    finance, headers = make.login("county_finance", county)
    code = client.post("/api/v1/me/invitations", headers=headers).get_json()["invite_code"]
    bind_token = wx_login(client, "ok:openid-fin").get_json()["bind_token"]
    assert bind(client, bind_token, code).get_json()["user"]["id"] == finance.id


def test_a_bound_manager_who_is_also_a_member_redeems_the_member_invitation(
        client, db, wechat, make, member_setup):
    coop, member, manager_headers = member_setup
    manager = make.user("coop_manager", coop)
    headers = make.headers(manager)
    code = invite(client, member, manager_headers)
    response = client.post("/api/v1/me/invitations/redeem", headers=headers,
                           json={"invite_code": code})
    assert response.status_code == 200
    roles = {(r["role"], r["scope_id"]) for r in response.get_json()["roles"]}
    assert roles == {("coop_manager", coop.id), ("member", member.id)}
    again = client.post("/api/v1/me/invitations/redeem", headers=headers,
                        json={"invite_code": code})
    assert again.get_json()["code"] == "INVITE_INVALID"


def test_binding_a_member_never_reuses_an_account_with_wider_roles(client, db, wechat, make,
                                                                    member_setup):
    # The manager holds the member role too; a new WeChat account invited for that member
    # must get its own member-only account, not the manager's.
    coop, member, manager_headers = member_setup
    manager = make.user("coop_manager", coop, roles=[("member", member)])
    bind_token = wx_login(client, "ok:openid-h").get_json()["bind_token"]
    body = bind(client, bind_token, invite(client, member, manager_headers)).get_json()
    assert body["user"]["id"] != manager.id
    assert [r["role"] for r in body["user"]["roles"]] == ["member"]


def test_rebinding_a_member_reuses_their_member_account(client, db, wechat, member_setup):
    _, member, manager_headers = member_setup
    first = bind(client, wx_login(client, "ok:old-phone").get_json()["bind_token"],
                 invite(client, member, manager_headers)).get_json()
    second = bind(client, wx_login(client, "ok:new-phone").get_json()["bind_token"],
                  invite(client, member, manager_headers)).get_json()
    assert first["user"]["id"] == second["user"]["id"]
    count = db.session.execute(db.select(db.func.count()).select_from(RoleAssignment)
                               .where(RoleAssignment.role == "member")).scalar_one()
    assert count == 1


@pytest.mark.parametrize("errcode,status,code", [
    (40029, 401, "WECHAT_CODE_INVALID"),
    (40163, 401, "WECHAT_CODE_INVALID"),
    (-1, 503, "WECHAT_UNAVAILABLE"),
    (45011, 429, "RATE_LIMITED"),
    (40226, 403, "WECHAT_USER_BLOCKED"),
    (40013, 503, "WECHAT_UNAVAILABLE"),  # invalid appid: our configuration, not the user
])
def test_wechat_error_codes_map_to_the_contract(client, db, wechat, errcode, status, code):
    response = wx_login(client, f"err:{errcode}")
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == code


@pytest.mark.parametrize("behaviour", ["http500", "garbage", "noopenid"])
def test_unusable_wechat_answers_are_unavailable(client, db, wechat, behaviour):
    response = wx_login(client, behaviour)
    assert response.status_code == 503
    assert response.get_json()["code"] == "WECHAT_UNAVAILABLE"


def test_a_wechat_timeout_is_unavailable(client, db, wechat, app, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_TIMEOUT_SECONDS", 0.2)
    response = wx_login(client, "slow")
    assert response.status_code == 503
    assert response.get_json()["code"] == "WECHAT_UNAVAILABLE"


def test_wechat_unreachable_is_unavailable(client, db, app, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setitem(app.config, "WECHAT_API_BASE", f"http://127.0.0.1:{port}")
    response = wx_login(client, "ok:x")
    assert response.status_code == 503
    assert response.get_json()["code"] == "WECHAT_UNAVAILABLE"


def test_session_key_and_secret_are_never_returned_or_logged(client, db, wechat, app, caplog,
                                                              member_setup, monkeypatch):
    _, member, manager_headers = member_setup
    caplog.set_level(logging.DEBUG)
    texts = []
    first = wx_login(client, "ok:openid-k")
    texts.append(first.get_data(as_text=True))
    texts.append(bind(client, first.get_json()["bind_token"],
                      invite(client, member, manager_headers)).get_data(as_text=True))
    texts.append(wx_login(client, "ok:openid-k").get_data(as_text=True))
    for behaviour in ("err:40029", "err:40013", "garbage"):
        texts.append(wx_login(client, behaviour).get_data(as_text=True))
    monkeypatch.setitem(app.config, "WECHAT_TIMEOUT_SECONDS", 0.2)
    texts.append(wx_login(client, "slow").get_data(as_text=True))
    logged = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    for text in texts + [logged]:
        assert SESSION_KEY not in text
        assert app.config["WECHAT_SECRET"] not in text
    # The session key is not stored anywhere either.
    for user in db.session.execute(db.select(User)).scalars():
        assert SESSION_KEY not in repr(user.__dict__)


def test_a_disabled_users_wechat_login_is_refused(client, db, wechat, member_setup):
    _, member, manager_headers = member_setup
    body = bind(client, wx_login(client, "ok:openid-m").get_json()["bind_token"],
                invite(client, member, manager_headers)).get_json()
    user = db.session.get(User, body["user"]["id"])
    user.status = "disabled"
    db.session.commit()
    response = wx_login(client, "ok:openid-m")
    assert response.status_code == 403


def test_wechat_login_rejects_unknown_fields(client, db, wechat):
    response = client.post(WX_LOGIN, json={"code": "ok:a", "openid": "forged"})
    assert response.status_code == 422
    assert wechat == []


def test_invitation_posts_refuse_unknown_fields(client, db, member_setup):
    _, member, manager_headers = member_setup
    response = client.post(f"/api/v1/members/{member.id}/invitations", headers=manager_headers,
                           json={"member_id": 1})
    assert response.status_code == 422


def test_a_failed_redeem_does_not_spend_the_code(client, db, wechat, make):
    county = make.county()
    manager = make.user("coop_manager", make.cooperative(county=county))
    _, admin_headers = make.login("county_admin", county)
    code = client.post(f"/api/v1/users/{manager.id}/invitations",
                       headers=admin_headers).get_json()["invite_code"]
    # Somebody else, logged in, tries the manager's (user) invitation: refused…
    _, intruder = make.login("county_finance", county)
    response = client.post("/api/v1/me/invitations/redeem", headers=intruder,
                           json={"invite_code": code})
    assert response.get_json()["code"] == "INVITE_INVALID"
    # …and the code still works for the person it was made for.
    bound = bind(client, wx_login(client, "ok:openid-mgr").get_json()["bind_token"], code)
    assert bound.status_code == 200 and bound.get_json()["user"]["id"] == manager.id
