"""A member invitation is for the member's own person: never its issuer, and only a user
holding the member's phone where the register has one."""
from __future__ import annotations

from auth.models import Invitation, RoleAssignment


def _invite(client, member, headers) -> str:
    resp = client.post(f"/api/v1/members/{member.id}/invitations", headers=headers)
    assert resp.status_code == 201, resp.json
    return resp.json["invite_code"]


def _redeem(client, headers, code):
    return client.post("/api/v1/me/invitations/redeem", headers=headers,
                       json={"invite_code": code})


def _member_roles(db, member):
    return db.session.query(RoleAssignment).filter_by(role="member",
                                                      scope_id=member.id).count()


def test_the_manager_who_issued_the_code_cannot_redeem_it(client, db, world, make):
    member = make.member(world.coop, name="刘建国")
    code = _invite(client, member, world.manager)
    resp = _redeem(client, world.manager, code)
    assert resp.status_code == 422 and resp.json["code"] == "INVITE_INVALID"
    assert "自己生成" in resp.json["detail"]
    assert _member_roles(db, member) == 0
    assert db.session.query(Invitation).one().used_at is None


def test_only_the_user_with_the_members_phone_may_redeem(client, db, world, make):
    member = make.member(world.coop, name="刘秀英", phone="13912345678")
    code = _invite(client, member, world.manager)
    stranger = make.user("commissioner", world.coop, phone="13900000000")
    resp = _redeem(client, make.headers(stranger), code)
    assert resp.status_code == 422 and resp.json["code"] == "INVITE_INVALID"
    assert _member_roles(db, member) == 0
    # the refusal did not spend the code: the member's own person takes it up
    person = make.user("commissioner", world.coop, phone="13912345678")
    ok = _redeem(client, make.headers(person), code)
    assert ok.status_code == 200, ok.json
    assert ("member", member.id) in {(r["role"], r["scope_id"]) for r in ok.json["roles"]}


def test_without_a_phone_on_the_register_another_user_may_redeem(client, db, world, make):
    member = make.member(world.coop, phone=None)
    code = _invite(client, member, world.manager)
    other_manager = make.user("coop_manager", world.coop)
    assert _redeem(client, make.headers(other_manager), code).status_code == 200
    assert _member_roles(db, member) == 1
