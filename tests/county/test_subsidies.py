"""Programs and subsidy applications: budget, four eyes, scope."""
from datetime import date, timedelta

from sqlalchemy import select

from coop.audit import AuditEntry, verify
from coop.county.models import Program, SubsidyApplication
from coop.payouts.models import PayoutBatch, PayoutLine
from tests.county.conftest import problem_code
from tests.county.test_evaluations import make_program


def apply(client, world, program_id, amount_fen, coop=None, headers=None):
    coop = coop or world.coop
    return client.post(f"/api/v1/cooperatives/{coop.id}/subsidy-applications",
                       json={"program_id": program_id, "amount_fen": amount_fen,
                             "purpose": "冷库建设"}, headers=headers or world.manager[1])


def action(client, application_id, name, headers, json=None):
    return client.post(f"/api/v1/subsidy-applications/{application_id}/{name}", json=json,
                       headers=headers)


def program_figures(client, world, program_id):
    body = client.get(f"/api/v1/programs/{program_id}", headers=world.admin[1]).get_json()
    return {k: body[k] for k in ("budget_fen", "committed_fen", "disbursed_fen",
                                 "available_fen")}


def test_program_counters_follow_approval_and_disbursement(client, world, db):
    program = make_program(client, world, budget_fen=1_000_000)
    app_id = apply(client, world, program["id"], 400_000).get_json()["id"]
    assert program_figures(client, world, program["id"]) == {
        "budget_fen": 1_000_000, "committed_fen": 0, "disbursed_fen": 0,
        "available_fen": 1_000_000}
    response = action(client, app_id, "approve", world.finance1[1])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "approved"
    assert program_figures(client, world, program["id"]) == {
        "budget_fen": 1_000_000, "committed_fen": 400_000, "disbursed_fen": 0,
        "available_fen": 600_000}
    response = action(client, app_id, "disburse", world.finance2[1],
                      {"paid_on": "2024-06-30", "bank_ref": "NB20240630001"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["bank_ref"], body["paid_on"]) == (
        "disbursed", "NB20240630001", "2024-06-30")
    assert program_figures(client, world, program["id"]) == {
        "budget_fen": 1_000_000, "committed_fen": 0, "disbursed_fen": 400_000,
        "available_fen": 600_000}
    batch = db.session.get(PayoutBatch, body["payout_batch_id"])
    assert (batch.source, batch.source_id, batch.cooperative_id, batch.total_fen) == (
        "subsidy", app_id, world.coop.id, 400_000)
    [line] = db.session.execute(select(PayoutLine)
                                .where(PayoutLine.batch_id == batch.id)).scalars()
    assert (line.amount_fen, line.status, line.bank_ref, line.payee_type) == (
        400_000, "paid", "NB20240630001", "cooperative")
    # In the order written: the program's rows are in the county's chain, the
    # application's and its batch's in the cooperative's (coop/audit.py).
    actions = db.session.execute(select(AuditEntry.action).order_by(
        AuditEntry.at, AuditEntry.chain, AuditEntry.seq)).scalars()
    assert [a for a in actions if not a.startswith(("auth.", "audit."))] == [
        "program.create", "subsidy_application.submit", "subsidy_application.approve",
        "payout_batch.create", "subsidy_application.disburse"]
    assert verify(db.session).ok


def test_disbursement_by_the_approver_is_refused(client, world):
    program = make_program(client, world, budget_fen=1_000_000)
    app_id = apply(client, world, program["id"], 1_000).get_json()["id"]
    action(client, app_id, "approve", world.finance1[1])
    response = action(client, app_id, "disburse", world.finance1[1],
                      {"paid_on": "2024-06-30", "bank_ref": "X1"})
    assert (response.status_code, problem_code(response)) == (403, "FOUR_EYES_REQUIRED")
    assert program_figures(client, world, program["id"])["disbursed_fen"] == 0


def test_disbursing_twice_or_before_approval_is_a_state_conflict(client, world):
    program = make_program(client, world, budget_fen=1_000_000)
    app_id = apply(client, world, program["id"], 1_000).get_json()["id"]
    body = {"paid_on": "2024-06-30", "bank_ref": "X1"}
    assert action(client, app_id, "disburse", world.finance2[1], body).status_code == 409
    action(client, app_id, "approve", world.finance1[1])
    assert action(client, app_id, "disburse", world.finance2[1], body).status_code == 200
    assert action(client, app_id, "disburse", world.finance2[1], body).status_code == 409
    assert program_figures(client, world, program["id"])["disbursed_fen"] == 1_000


def test_over_budget_approval_is_refused_and_the_application_stays_submitted(client, world, db):
    program = make_program(client, world, budget_fen=1_000)
    first = apply(client, world, program["id"], 600).get_json()["id"]
    second = apply(client, world, program["id"], 401).get_json()["id"]
    assert action(client, first, "approve", world.finance1[1]).status_code == 200
    response = action(client, second, "approve", world.finance1[1])
    assert (response.status_code, problem_code(response)) == (422, "BUDGET_EXCEEDED")
    assert db.session.get(SubsidyApplication, second).status == "submitted"
    assert program_figures(client, world, program["id"])["available_fen"] == 400


def test_rejection_keeps_the_reason_and_blocks_approval(client, world):
    program = make_program(client, world, budget_fen=1_000)
    app_id = apply(client, world, program["id"], 100).get_json()["id"]
    response = action(client, app_id, "reject", world.finance1[1], {"reason": "材料不全"})
    assert response.get_json()["status"] == "rejected"
    assert response.get_json()["reject_reason"] == "材料不全"
    assert action(client, app_id, "approve", world.finance2[1]).status_code == 409
    assert action(client, app_id, "reject", world.finance1[1], {"reason": ""}).status_code == 422


def test_only_finance_decides_and_only_the_cooperatives_manager_applies(client, world, make):
    program = make_program(client, world, budget_fen=1_000)
    response = apply(client, world, program["id"], 100, headers=world.finance1[1])
    assert (response.status_code, problem_code(response)) == (403, "FORBIDDEN")
    _, other_manager = make.login("coop_manager", world.other_coop)
    assert apply(client, world, program["id"], 100, headers=other_manager).status_code == 404
    app_id = apply(client, world, program["id"], 100).get_json()["id"]
    for headers in (world.admin[1], world.reviewers["finance"][1], world.manager[1]):
        response = action(client, app_id, "approve", headers)
        assert (response.status_code, problem_code(response)) == (403, "FORBIDDEN")


def test_county_b_staff_get_404_on_county_a_money(client, world):
    program = make_program(client, world, budget_fen=1_000)
    app_id = apply(client, world, program["id"], 100).get_json()["id"]
    headers = world.finance_b[1]
    assert client.get(f"/api/v1/programs/{program['id']}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/subsidy-applications/{app_id}", headers=headers).status_code == 404
    for name, body in (("approve", None), ("reject", {"reason": "x"}),
                       ("disburse", {"paid_on": "2024-01-01", "bank_ref": "x"})):
        assert action(client, app_id, name, headers, body).status_code == 404, name
    assert client.post(f"/api/v1/counties/{world.county.id}/programs",
                       json={"name": "x", "year": 2024, "budget_fen": 1},
                       headers=world.admin_b[1]).status_code == 404
    listing = client.get(f"/api/v1/subsidy-applications?county_id={world.county.id}",
                         headers=headers).get_json()
    assert (listing["items"], listing["total"]) == ([], 0)


def test_application_of_a_program_of_another_county_is_refused(client, world):
    program_b = client.post(f"/api/v1/counties/{world.county_b.id}/programs",
                            json={"name": "B", "year": 2024, "budget_fen": 1_000},
                            headers=world.finance_b[1]).get_json()
    response = apply(client, world, program_b["id"], 100)
    assert response.status_code == 422
    assert "program_id" in response.get_json()["errors"]


def test_listing_is_scoped_filtered_and_paginated(client, world, make):
    program = make_program(client, world, budget_fen=10_000)
    ids = [apply(client, world, program["id"], 10 + i).get_json()["id"] for i in range(5)]
    _, other_manager = make.login("coop_manager", world.other_coop)
    apply(client, world, program["id"], 99, coop=world.other_coop, headers=other_manager)
    action(client, ids[0], "reject", world.finance1[1], {"reason": "否"})
    page = client.get("/api/v1/subsidy-applications?status=submitted&per_page=2&page=2",
                      headers=world.manager[1]).get_json()
    assert (page["total"], page["page"], page["per_page"]) == (4, 2, 2)
    assert [x["id"] for x in page["items"]] == [ids[2], ids[1]]
    everything = client.get("/api/v1/subsidy-applications", headers=world.finance1[1]).get_json()
    assert everything["total"] == 6
    # An item of the list is what the application's own page shows, field for field.
    for item in everything["items"][:2]:
        assert item == client.get(f"/api/v1/subsidy-applications/{item['id']}",
                                  headers=world.finance1[1]).get_json()
    assert client.get("/api/v1/subsidy-applications?per_page=101",
                      headers=world.finance1[1]).status_code == 422
    assert client.get("/api/v1/subsidy-applications?status=paid",
                      headers=world.finance1[1]).status_code == 422


def test_bad_amounts_and_dates_are_refused(client, world):
    program = make_program(client, world, budget_fen=1_000)
    for amount in (0, -5, 1.5, "100"):
        assert apply(client, world, program["id"], amount).status_code == 422, amount
    app_id = apply(client, world, program["id"], 100).get_json()["id"]
    action(client, app_id, "approve", world.finance1[1])
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    for body in ({"paid_on": tomorrow, "bank_ref": "x"},
                 {"paid_on": "2024-13-01", "bank_ref": "x"},
                 {"paid_on": "2024-01-01"}, {"paid_on": "2024-01-01", "bank_ref": "x" * 65}):
        assert action(client, app_id, "disburse", world.finance2[1], body).status_code == 422
    for body in ({"name": "x", "year": 2024, "budget_fen": -1},
                 {"name": "", "year": 2024, "budget_fen": 1},
                 {"name": "x", "year": 2024, "budget_fen": 1, "committed_fen": 5}):
        assert client.post(f"/api/v1/counties/{world.county.id}/programs", json=body,
                           headers=world.admin[1]).status_code == 422


def test_approval_replays_with_the_same_idempotency_key(client, world, db):
    program = make_program(client, world, budget_fen=1_000)
    app_id = apply(client, world, program["id"], 100).get_json()["id"]
    headers = {**world.finance1[1], "Idempotency-Key": "k-1"}
    first = action(client, app_id, "approve", headers)
    again = action(client, app_id, "approve", headers)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert db.session.get(Program, program["id"]).committed_fen == 100
