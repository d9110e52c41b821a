"""The member register: checks, uniqueness, masking, encryption at rest, scoping."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.factories import valid_credit_code, valid_id_card
from tests.registry.conftest import member_body

from coop.audit import AuditEntry
from coop.registry.models import Member

ACCOUNT = "6228480012345678901"


def members_url(coop) -> str:
    return f"/api/v1/cooperatives/{coop.id}/members"


def assert_masked(response, id_card: str, account: str | None = ACCOUNT):
    """The full numbers appear nowhere in the body; the contract's mask does."""
    body = response.get_data(as_text=True)
    assert id_card not in body
    assert f"{id_card[:6]}********{id_card[-4:]}" in body
    if account:
        assert account not in body
        assert account[-4:] in body


def test_manager_adds_a_member_and_every_response_masks_it(client, world, make):
    id_card = valid_id_card()
    created = client.post(members_url(world.coop), headers=world.manager,
                          json=member_body(id_card))
    assert created.status_code == 201, created.get_json()
    member_id = created.get_json()["id"]
    assert_masked(created, id_card)
    assert created.get_json()["bank_account"] == "*" * 15 + "8901"
    member_user = make.login("member", make.session.get(Member, member_id))[1]
    commissioner = make.login("commissioner", world.coop)[1]
    responses = [
        client.get(members_url(world.coop), headers=world.reader),
        client.get(members_url(world.coop), headers=commissioner),
        client.get(f"/api/v1/members/{member_id}", headers=world.reader),
        client.get(f"/api/v1/members/{member_id}", headers=member_user),
        client.get(f"{members_url(world.coop)}?id_card_no={id_card}", headers=world.manager),
        client.patch(f"/api/v1/members/{member_id}", headers=world.manager,
                     json={"name": "王建军"}),
        client.post(f"/api/v1/members/{member_id}/leave", headers=world.manager,
                    json={"on": "2024-12-31", "reason": "外出务工"}),
    ]
    for response in responses:
        assert response.status_code == 200, response.get_json()
        assert_masked(response, id_card)


def test_phone_is_masked_for_county_readers_and_shown_to_the_manager_and_member(
        client, world, make):
    member = make.member(world.coop, phone="13812345678")
    own = make.login("member", member)[1]
    url = f"/api/v1/members/{member.id}"
    assert client.get(url, headers=world.reader).get_json()["phone"] == "138****5678"
    assert client.get(url, headers=world.manager).get_json()["phone"] == "13812345678"
    assert client.get(url, headers=own).get_json()["phone"] == "13812345678"
    listed = client.get(members_url(world.coop), headers=world.admin).get_json()
    assert listed["items"][0]["phone"] == "138****5678"


def test_numbers_are_encrypted_at_rest(client, world, db):
    id_card = valid_id_card()
    client.post(members_url(world.coop), headers=world.manager, json=member_body(id_card))
    row = db.session.execute(text(
        "SELECT id_card_enc, id_card_hash, id_card_masked, bank_account_enc, "
        "bank_account_hash, bank_account_masked FROM members")).one()
    raw = " ".join(str(v) for v in row)
    assert id_card not in raw and ACCOUNT not in raw
    assert id_card[6:14] not in raw  # not even the birth date
    assert row.id_card_masked == f"{id_card[:6]}********{id_card[-4:]}"
    audit_text = " ".join(str(v) for v in db.session.execute(
        db.select(AuditEntry.before, AuditEntry.after)).all())
    assert id_card not in audit_text and ACCOUNT not in audit_text


def test_bad_id_card_checksum_is_422_id_card_invalid(client, world):
    good = valid_id_card()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    response = client.post(members_url(world.coop), headers=world.manager,
                           json=member_body(bad))
    assert response.status_code == 422
    assert response.get_json()["code"] == "ID_CARD_INVALID"
    assert "id_card_no" in response.get_json()["errors"]


def test_an_organisation_member_may_give_its_credit_code(client, world):
    response = client.post(members_url(world.coop), headers=world.manager, json=member_body(
        valid_credit_code(), name="单县刘庄村股份经济合作社", member_type="collective",
        phone=None, bank_name=None, bank_account=None))
    assert response.status_code == 201, response.get_json()
    farmer = client.post(members_url(world.coop), headers=world.manager,
                         json=member_body(valid_credit_code()))
    assert farmer.get_json()["code"] == "ID_CARD_INVALID"


@pytest.mark.parametrize("bad", [
    {"phone": "12345"}, {"bank_account": "12ab"}, {"bank_name": None},
    {"member_type": "worker"}, {"joined_on": "2021-02-30"}, {"name": ""},
    {"salary": 1}, {"name": "张" * 65},
])
def test_member_fields_are_validated(client, world, bad):
    response = client.post(members_url(world.coop), headers=world.manager,
                           json=member_body(valid_id_card(), **bad))
    assert response.status_code == 422, bad


def test_the_same_id_card_twice_in_a_cooperative_is_refused_but_not_across(client, world):
    id_card = valid_id_card()
    assert client.post(members_url(world.coop), headers=world.manager,
                       json=member_body(id_card)).status_code == 201
    again = client.post(members_url(world.coop), headers=world.manager,
                        json=member_body(id_card.lower()))
    assert again.status_code == 422
    assert again.get_json()["code"] == "ID_CARD_DUPLICATE"
    elsewhere = client.post(members_url(world.other), headers=world.manager_b,
                            json=member_body(id_card))
    assert elsewhere.status_code == 201


def test_one_collective_member_per_cooperative(client, world, make):
    make.member(world.coop, member_type="collective")
    response = client.post(members_url(world.coop), headers=world.manager,
                           json=member_body(valid_id_card(), member_type="collective"))
    assert response.status_code == 422
    assert response.get_json()["code"] == "COLLECTIVE_MEMBER_EXISTS"
    farmer = make.member(world.coop)
    patched = client.patch(f"/api/v1/members/{farmer.id}", headers=world.manager,
                           json={"member_type": "collective"})
    assert patched.status_code == 422


def test_leaving_keeps_the_member_and_frees_the_collective_slot(client, world, make, db):
    collective = make.member(world.coop, member_type="collective")
    left = client.post(f"/api/v1/members/{collective.id}/leave", headers=world.manager,
                       json={"on": "2024-06-30", "reason": "村集体改制"})
    assert left.status_code == 200
    assert (left.get_json()["status"], left.get_json()["left_on"]) == ("left", "2024-06-30")
    again = client.post(f"/api/v1/members/{collective.id}/leave", headers=world.manager,
                        json={"on": "2024-07-01", "reason": "重复"})
    assert again.status_code == 409
    assert client.post(members_url(world.coop), headers=world.manager, json=member_body(
        valid_id_card(), member_type="collective")).status_code == 201
    assert db.session.query(Member).filter_by(cooperative_id=world.coop.id).count() == 2
    listed = client.get(f"{members_url(world.coop)}?status=left",
                        headers=world.reader).get_json()
    assert [m["id"] for m in listed["items"]] == [collective.id]
    assert db.session.query(AuditEntry).filter_by(action="member.leave").count() == 1


def test_leaving_before_joining_is_refused(client, world, make):
    member = make.member(world.coop)
    response = client.post(f"/api/v1/members/{member.id}/leave", headers=world.manager,
                           json={"on": "2019-01-01", "reason": "外出"})
    assert response.status_code == 422


def test_patch_corrects_the_id_card_and_bank_account(client, world, make, db):
    member = make.member(world.coop)
    new_card = valid_id_card()
    response = client.patch(f"/api/v1/members/{member.id}", headers=world.manager,
                            json={"id_card_no": new_card, "bank_account": "6217000011112222"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["id_card_no"].endswith(new_card[-4:])
    assert response.get_json()["bank_account"].endswith("2222")
    from coop import crypto
    db.session.expire_all()
    assert crypto.decrypt(member.id_card_enc) == new_card
    taken = make.member(world.coop)
    clash = client.patch(f"/api/v1/members/{taken.id}", headers=world.manager,
                         json={"id_card_no": new_card})
    assert clash.get_json()["code"] == "ID_CARD_DUPLICATE"


def test_list_filters(client, world, make):
    make.member(world.coop, name="王建国")
    make.member(world.coop, name="李秀英", member_type="enterprise")
    url = members_url(world.coop)
    names = lambda q: [m["name"] for m in client.get(f"{url}?{q}",  # noqa: E731
                                                     headers=world.reader).get_json()["items"]]
    assert names("q=建国") == ["王建国"]
    assert names("member_type=enterprise") == ["李秀英"]
    assert names("q=秀&member_type=enterprise&status=active") == ["李秀英"]
    assert names("q=建国&member_type=enterprise") == []
    # LIKE's wildcards and the escape character are searched for literally.
    for literal in ("%25", "_", "/", "%2F%25", "\\"):
        assert names(f"q={literal}") == [], literal
    assert client.get(f"{url}?per_page=101", headers=world.reader).status_code == 422


# --- scoping (BOLA) ----------------------------------------------------------------------------

def test_a_manager_cannot_read_or_change_another_cooperatives_members(client, world, make):
    theirs = make.member(world.other)
    body = member_body(valid_id_card())
    assert client.get(members_url(world.other), headers=world.manager).status_code == 404
    assert client.post(members_url(world.other), headers=world.manager,
                       json=body).status_code == 404
    assert client.get(f"/api/v1/members/{theirs.id}", headers=world.manager).status_code == 404
    assert client.patch(f"/api/v1/members/{theirs.id}", headers=world.manager,
                        json={"name": "改"}).status_code == 404
    assert client.post(f"/api/v1/members/{theirs.id}/leave", headers=world.manager,
                       json={"on": "2024-01-01", "reason": "x"}).status_code == 404
    assert client.post(members_url(world.other) + "/import", headers=world.manager,
                       data={"file": (__import__("io").BytesIO(b"x"), "m.csv")},
                       content_type="multipart/form-data").status_code == 404


def test_a_county_role_of_another_county_sees_nothing(client, world, make):
    member = make.member(world.coop)
    stranger = make.login("county_admin", make.county())[1]
    assert client.get(f"/api/v1/members/{member.id}", headers=stranger).status_code == 404
    assert client.get(members_url(world.coop), headers=stranger).status_code == 404


def test_a_member_reads_only_their_own_record(client, world, make):
    me, neighbour = make.member(world.coop), make.member(world.coop)
    headers = make.login("member", me)[1]
    assert client.get(f"/api/v1/members/{me.id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/members/{neighbour.id}", headers=headers).status_code == 404
    assert client.get(members_url(world.coop), headers=headers).status_code == 403
    assert client.patch(f"/api/v1/members/{me.id}", headers=headers,
                        json={"phone": "13900000000"}).status_code == 403


def test_commissioners_and_county_readers_cannot_write(client, world, make):
    member = make.member(world.coop)
    commissioner = make.login("commissioner", world.coop)[1]
    for headers in (commissioner, world.reader, world.admin):
        assert client.get(members_url(world.coop), headers=headers).status_code == 200
        assert client.post(members_url(world.coop), headers=headers,
                           json=member_body(valid_id_card())).status_code == 403
        assert client.patch(f"/api/v1/members/{member.id}", headers=headers,
                            json={"name": "改"}).status_code == 403
        assert client.post(f"/api/v1/members/{member.id}/leave", headers=headers,
                           json={"on": "2024-01-01", "reason": "x"}).status_code == 403


def test_no_token_is_401(client, world):
    assert client.get(members_url(world.coop)).status_code == 401
