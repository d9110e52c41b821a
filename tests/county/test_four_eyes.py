"""Issue 20 item 6: four eyes cannot be satisfied by one person.

Before the fix a county_admin granted itself county_finance (201), and a user holding
coop_manager and county_finance approved the application they had submitted (200)."""
from __future__ import annotations

import json

from sqlalchemy import select

from coop.audit import AuditEntry
from tests.county.conftest import problem_code
from tests.county.test_evaluations import make_program


def test_nobody_grants_a_role_to_themselves(client, world, db):
    admin, headers = world.admin
    response = client.post(f"/api/v1/users/{admin.id}/roles", headers=headers,
                           json={"role": "county_finance", "scope_type": "county",
                                 "scope_id": world.county.id})
    assert (response.status_code, problem_code(response)) == (403, "SELF_GRANT_FORBIDDEN")


def test_grants_and_creations_say_who_whom_and_what_in_the_audit(client, world, db):
    admin, headers = world.admin
    created = client.post("/api/v1/users", headers=headers, json={
        "phone": "13912345678", "name": "新财政", "password": "correct horse battery",
        "roles": [{"role": "county_finance", "scope_type": "county",
                   "scope_id": world.county.id}]})
    assert created.status_code == 201, created.get_json()
    user_id = created.get_json()["id"]
    granted = client.post(f"/api/v1/users/{user_id}/roles", headers=headers,
                          json={"role": "county_reviewer", "scope_type": "county",
                                "scope_id": world.county.id, "department": "finance"})
    assert granted.status_code == 201, granted.get_json()
    rows = {e.action: e for e in db.session.execute(select(AuditEntry).where(
        AuditEntry.object_type == "user", AuditEntry.object_id == str(user_id))).scalars()}
    create = json.loads(rows["user.create"].after)
    assert rows["user.create"].actor_id == admin.id
    assert (create["created_by"], create["user_id"], create["with_password"]) == (
        admin.id, user_id, True)
    assert [r["role"] for r in create["roles"]] == ["county_finance"]
    grant = json.loads(rows["user.role_grant"].after)
    assert (grant["granted_by"], grant["user_id"], grant["role"], grant["department"]) == (
        admin.id, user_id, "county_reviewer", "finance")


def test_the_submitter_of_an_application_may_not_approve_it(client, world, make):
    both = make.user("county_finance", world.county, roles=[("coop_manager", world.coop)])
    headers = make.headers(both)
    program = make_program(client, world, budget_fen=1_000_000)
    app = client.post(f"/api/v1/cooperatives/{world.coop.id}/subsidy-applications",
                      headers=headers, json={"program_id": program["id"],
                                             "amount_fen": 100_000, "purpose": "冷库"})
    assert app.status_code == 201, app.get_json()
    url = f"/api/v1/subsidy-applications/{app.get_json()['id']}/approve"
    response = client.post(url, headers=headers)
    assert (response.status_code, problem_code(response)) == (403, "FOUR_EYES_REQUIRED")
    assert client.post(url, headers=world.finance1[1]).status_code == 200
