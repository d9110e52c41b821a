"""The lifecycle state machine: every transition, allowed and refused."""
from __future__ import annotations

import itertools

import pytest

from coop.audit import AuditEntry
from coop.errors import Conflict, RuleViolation
from coop.registry.lifecycle import change_status
from coop.registry.models import CooperativeStatusChange

STATES = ("active", "standardized", "shell", "closed", "merged", "transformed")
# domain.md, written out independently of the code: active → standardized;
# active → shell → closed | merged | transformed. Nothing else.
ALLOWED = {("active", "standardized"), ("active", "shell"), ("shell", "closed"),
           ("shell", "merged"), ("shell", "transformed")}


@pytest.mark.parametrize("from_status, to_status", list(itertools.product(STATES, STATES)))
def test_every_transition_is_allowed_or_refused_as_the_domain_says(db, make, from_status,
                                                                   to_status):
    county = make.county()
    coop = make.cooperative(county=county, status=from_status)
    target = make.cooperative(county=county) if to_status == "merged" else None
    if (from_status, to_status) in ALLOWED:
        change = change_status(db.session, None, coop, to_status, "整改结论", target)
        assert coop.status == to_status
        assert (change.from_status, change.to_status) == (from_status, to_status)
        assert coop.merged_into_id == (target.id if target else None)
    else:
        with pytest.raises(Conflict):
            change_status(db.session, None, coop, to_status, "整改结论", target)
        db.session.rollback()
        assert coop.status == from_status
        assert db.session.query(CooperativeStatusChange).count() == 0


def _post(client, world, coop_id, **body):
    return client.post(f"/api/v1/cooperatives/{coop_id}/status-changes", headers=world.admin,
                       json=body)


def test_a_status_change_is_kept_in_history_and_audited(client, world, db):
    first = _post(client, world, world.coop.id, to="shell", reason="连续两年无经营")
    assert first.status_code == 201, first.get_json()
    second = _post(client, world, world.coop.id, to="closed", reason="注销登记")
    assert second.status_code == 201
    history = client.get(f"/api/v1/cooperatives/{world.coop.id}/status-changes",
                         headers=world.reader).get_json()
    assert [(h["from_status"], h["to_status"], h["reason"]) for h in history["items"]] == [
        ("active", "shell", "连续两年无经营"), ("shell", "closed", "注销登记")]
    audited = db.session.execute(db.select(AuditEntry).where(
        AuditEntry.action == "cooperative.status_change")).scalars().all()
    assert len(audited) == 2 and '"status":"closed"' in audited[1].after
    assert client.get(f"/api/v1/cooperatives/{world.coop.id}",
                      headers=world.reader).get_json()["status"] == "closed"


def test_an_illegal_step_over_http_is_409_state_conflict(client, world):
    response = _post(client, world, world.coop.id, to="closed", reason="直接关停")
    assert response.status_code == 409
    assert response.get_json()["code"] == "STATE_CONFLICT"


def test_merging_into_another_cooperative_of_the_county(client, world, db):
    _post(client, world, world.coop.id, to="shell", reason="空壳")
    response = _post(client, world, world.coop.id, to="merged", reason="并入邻村合作社",
                     merged_into_id=world.other.id)
    assert response.status_code == 201
    assert response.get_json()["merged_into_id"] == world.other.id
    got = client.get(f"/api/v1/cooperatives/{world.coop.id}", headers=world.admin).get_json()
    assert (got["status"], got["merged_into_id"]) == ("merged", world.other.id)


@pytest.mark.parametrize("case", ["self", "missing", "closed", "shell", "not_merging"])
def test_merge_target_rules(client, world, db, make, case):
    world.coop.status = "shell"
    target = world.other
    if case in ("closed", "shell"):
        target.status = case
    db.session.commit()
    body = {"to": "merged", "reason": "并入", "merged_into_id": target.id}
    if case == "self":
        body["merged_into_id"] = world.coop.id
    if case == "missing":
        del body["merged_into_id"]
    if case == "not_merging":
        body["to"] = "closed"
    response = _post(client, world, world.coop.id, **body)
    assert response.status_code == 422, response.get_json()
    db.session.expire_all()
    assert world.coop.status == "shell"


def test_a_cooperative_of_another_county_is_no_merge_target(client, world, db, make):
    world.coop.status = "shell"
    db.session.commit()
    elsewhere = make.cooperative(county=make.county())
    response = _post(client, world, world.coop.id, to="merged", reason="并入",
                     merged_into_id=elsewhere.id)
    assert response.status_code == 404


def test_the_service_refuses_a_merge_across_counties_even_for_a_superuser(db, make):
    coop = make.cooperative(status="shell")
    elsewhere = make.cooperative()
    with pytest.raises(RuleViolation) as refused:
        change_status(db.session, None, coop, "merged", "并入", elsewhere)
    assert refused.value.code == "MERGE_TARGET_INVALID"


def test_only_county_admin_changes_status(client, world, make):
    commissioner = make.login("commissioner", world.coop)[1]
    for headers in (world.manager, world.reader, commissioner):
        response = client.post(f"/api/v1/cooperatives/{world.coop.id}/status-changes",
                               headers=headers, json={"to": "shell", "reason": "空壳"})
        assert response.status_code == 403


def test_a_reason_is_required(client, world):
    assert _post(client, world, world.coop.id, to="shell").status_code == 422
    assert _post(client, world, world.coop.id, to="shell", reason="  ").status_code == 422


def test_a_closed_cooperative_takes_no_new_members(client, world, db):
    from tests.factories import valid_id_card
    from tests.registry.conftest import member_body
    world.coop.status = "closed"
    db.session.commit()
    response = client.post(f"/api/v1/cooperatives/{world.coop.id}/members",
                           headers=world.manager, json=member_body(valid_id_card()))
    assert response.status_code == 409
