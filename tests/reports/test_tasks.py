"""GET /me/tasks (CONTRACT §12): every kind, for the role it waits on and no other, in the
caller's scope only, and gone once done; the four-eyes kinds skip the caller's own work."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from coop import crypto
from coop.county.models import RewardRound
from coop.distribution.models import DistributionPlan
from coop.payouts.models import PayoutLine
from coop.payouts.services import Payee, create_batch
from coop.shares.models import ShareOperation
from tests.county.conftest import world  # noqa: F401 (fixture)
from tests.county.test_evaluations import make_program, score_url, set_rules
from tests.county.test_subsidies import action, apply

YEAR = 2024


def tasks(client, headers) -> list[tuple]:
    response = client.get("/api/v1/me/tasks", headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["total"] == len(body["items"])
    for item in body["items"]:
        assert item["title"] and datetime.fromisoformat(item["since"]).tzinfo is not None
    return [(t["kind"], t["object_type"], t["object_id"]) for t in body["items"]]


def kinds(client, headers) -> list[str]:
    return [kind for kind, _, _ in tasks(client, headers)]


def everybody(world):
    return {"admin": world.admin[1], "finance1": world.finance1[1],
            "finance2": world.finance2[1], "manager": world.manager[1],
            "finance_b": world.finance_b[1], "admin_b": world.admin_b[1],
            **{f"reviewer_{d}": h for d, (_, h) in world.reviewers.items()}}


def test_anonymous_is_401_and_nothing_pending_is_an_empty_list(client, world):
    assert client.get("/api/v1/me/tasks").status_code == 401
    for headers in everybody(world).values():
        assert tasks(client, headers) == []


def test_an_application_waits_on_every_finance_user_of_its_county_then_on_the_other_one(
        client, world):
    program = make_program(client, world, budget_fen=1_000_000)
    app_id = apply(client, world, program["id"], 400_000).get_json()["id"]
    decide = [("application_to_decide", "subsidy_application", app_id)]
    assert tasks(client, world.finance1[1]) == decide
    assert tasks(client, world.finance2[1]) == decide
    for who in ("admin", "manager", "finance_b", "reviewer_finance"):
        assert tasks(client, everybody(world)[who]) == [], who

    assert action(client, app_id, "approve", world.finance1[1]).status_code == 200
    # Not my own approval: the approver may not disburse (四眼原则), so it waits on B only.
    assert tasks(client, world.finance1[1]) == []
    assert tasks(client, world.finance2[1]) == [
        ("disbursement_to_make", "subsidy_application", app_id)]

    assert action(client, app_id, "disburse", world.finance2[1],
                  {"paid_on": "2024-06-30", "bank_ref": "NB1"}).status_code == 200
    assert tasks(client, world.finance1[1]) == tasks(client, world.finance2[1]) == []


def test_a_rejected_application_is_done(client, world):
    program = make_program(client, world, budget_fen=1_000_000)
    app_id = apply(client, world, program["id"], 400_000).get_json()["id"]
    assert action(client, app_id, "reject", world.finance2[1],
                  {"reason": "材料不全"}).status_code == 200
    assert tasks(client, world.finance1[1]) == []


def _round(db, world, created_by, status="draft") -> RewardRound:
    program = make_program_row(db, world)
    rnd = RewardRound(county_id=world.county.id, year=YEAR,
                      live_year=YEAR if status in ("draft", "approved") else None,
                      status=status, program_id=program.id, excellent_award_fen=1_000,
                      secretary_rate=Decimal("0.15"), managers_rate=Decimal("0.15"),
                      total_fen=1_000, line_count=1, created_by=created_by.id)
    db.session.add(rnd)
    db.session.commit()
    return rnd


def make_program_row(db, world):
    from coop.county.models import Program
    program = Program(county_id=world.county.id, name="奖励资金", year=YEAR,
                      budget_fen=10_000_000, committed_fen=0, disbursed_fen=0)
    db.session.add(program)
    db.session.commit()
    return program


def test_a_draft_round_waits_on_finance_users_other_than_its_creator(client, world, db):
    rnd = _round(db, world, world.finance1[0])
    assert tasks(client, world.finance1[1]) == []
    assert tasks(client, world.finance2[1]) == [("round_to_approve", "reward_round", rnd.id)]
    assert tasks(client, world.finance_b[1]) == []
    assert tasks(client, world.admin[1]) == []
    rnd.status, rnd.live_year = "rejected", None
    db.session.commit()
    assert tasks(client, world.finance2[1]) == []


def test_scores_wait_on_each_department_for_a_graded_year_until_entered(client, world, db):
    # No rules for the year: nothing is being graded yet.
    assert kinds(client, world.reviewers["organization"][1]) == []
    program = make_program(client, world)
    set_rules(client, world, program["id"], year=YEAR)
    for dept, (_, headers) in world.reviewers.items():
        [task] = client.get("/api/v1/me/tasks", headers=headers).get_json()["items"]
        assert (task["kind"], task["object_type"], task["object_id"]) == (
            "scores_to_enter", "county", world.county.id)
        assert "2 家合作社" in task["title"] and str(YEAR) in task["title"]
    for coop in (world.coop, world.other_coop):
        response = client.put(score_url(coop, "organization", YEAR),
                              json={"score": 90, "opinion": "好"},
                              headers=world.reviewers["organization"][1])
        assert response.status_code == 200, response.get_json()
    assert kinds(client, world.reviewers["organization"][1]) == []
    [task] = client.get("/api/v1/me/tasks",
                        headers=world.reviewers["finance"][1]).get_json()["items"]
    assert "2 家合作社" in task["title"]
    # Finance users and other counties are not reviewers: no scores wait on them.
    assert "scores_to_enter" not in kinds(client, world.finance1[1])
    assert kinds(client, world.admin_b[1]) == []


def test_a_closed_cooperative_or_a_live_round_asks_for_no_scores(client, world, db):
    program = make_program(client, world)
    set_rules(client, world, program["id"], year=YEAR)
    world.other_coop.status = "closed"
    db.session.commit()
    [task] = client.get("/api/v1/me/tasks",
                        headers=world.reviewers["agriculture"][1]).get_json()["items"]
    assert "1 家合作社" in task["title"]
    _round(db, world, world.finance1[0])     # scores are frozen while a round is live
    assert kinds(client, world.reviewers["agriculture"][1]) == []


def _member(make, coop, name):
    return make.member(coop, name=name)


def test_share_operations_and_plans_wait_on_their_cooperatives_manager(client, world, make,
                                                                       db):
    member = _member(make, world.coop, "张三")
    other = _member(make, world.other_coop, "李四")
    ops = []
    for m in (member, other):
        op = ShareOperation(county_id=m.county_id, cooperative_id=m.cooperative_id,
                            member_id=m.id, type="subscribe", kind="cash", amount_fen=50_000,
                            effective_on=date(YEAR, 5, 1), status="submitted")
        db.session.add(op)
        ops.append(op)
    now = datetime.now(timezone.utc)
    plans = []
    for ends in (now - timedelta(hours=1), now + timedelta(days=3)):
        year = YEAR if not plans else YEAR - 1
        plan = DistributionPlan(county_id=world.coop.county_id, cooperative_id=world.coop.id,
                                year=year, live_year=year, method="statutory",
                                reserve_rate=Decimal("0.10"), status="publicized",
                                basis_digest="0" * 64, surplus_fen=1, distributable_fen=1,
                                line_count=0, public_token=f"tok{year}", notice_days=7,
                                notice_starts_at=ends - timedelta(days=7),
                                notice_ends_at=ends, submitted_at=now,
                                created_by=world.manager[0].id)
        db.session.add(plan)
        plans.append(plan)
    db.session.commit()
    got = tasks(client, world.manager[1])
    # The notice still running is not ready; the other cooperative's operation is not ours.
    assert sorted(got) == sorted([("operation_to_approve", "share_operation", ops[0].id),
                                  ("plan_ready_to_approve", "distribution_plan",
                                   plans[0].id)])
    assert tasks(client, world.finance1[1]) == [] and tasks(client, world.admin[1]) == []
    ops[0].status = "approved"
    plans[0].status = "approved"
    db.session.commit()
    assert tasks(client, world.manager[1]) == []


def _batch(db, world, cooperative_id, status="failed"):
    batch = create_batch(db.session, None, county_id=world.county.id,
                         cooperative_id=cooperative_id,
                         source="distribution" if cooperative_id else "reward",
                         source_id=cooperative_id or 99, year=YEAR,
                         payees=[Payee(payee_type="cooperative", payee_name="某社",
                                       amount_fen=12_345, cooperative_id=world.coop.id,
                                       town_id=world.coop.town_id, bank_name="中国农业银行",
                                       bank_account_enc=crypto.encrypt("6228480012345678"),
                                       bank_account_masked="****5678")])
    db.session.flush()
    line = db.session.query(PayoutLine).filter_by(batch_id=batch.id).one()
    line.status = status
    db.session.commit()
    return batch, line


@pytest.mark.parametrize("county_wide", [False, True])
def test_failed_lines_wait_on_the_batchs_payer_until_reissued(client, world, db, county_wide):
    batch, line = _batch(db, world, None if county_wide else world.coop.id)
    payers = ("admin", "finance1", "finance2") if county_wide else ("manager",)
    for who, headers in everybody(world).items():
        expected = [("batch_with_failed_lines", "payout_batch", batch.id)] \
            if who in payers else []
        assert tasks(client, headers) == expected, who
    headers = everybody(world)[payers[0]]
    response = client.post(f"/api/v1/payout-batches/{batch.id}/reissue", json={},
                           headers=headers)
    assert response.status_code == 201, response.get_json()
    assert tasks(client, headers) == []


@pytest.mark.parametrize("county_wide", [False, True])
def test_held_lines_wait_on_the_batchs_payer_until_given_an_account(client, world, db,
                                                                   county_wide):
    batch, line = _batch(db, world, None if county_wide else world.coop.id, status="held")
    payers = ("admin", "finance1", "finance2") if county_wide else ("manager",)
    for who, headers in everybody(world).items():
        expected = [("lines_held", "payout_batch", batch.id)] if who in payers else []
        assert tasks(client, headers) == expected, who
    headers = everybody(world)[payers[0]]
    response = client.patch(f"/api/v1/payout-lines/{line.id}", headers=headers,
                            json={"bank_name": "中国农业银行", "bank_account": "6228480012345678"})
    assert response.status_code == 200, response.get_json()
    assert tasks(client, headers) == []


def test_a_batch_without_failed_lines_asks_nothing(client, world, db):
    _batch(db, world, world.coop.id, status="paid")
    assert tasks(client, world.manager[1]) == []


def test_a_member_and_a_superuser_have_no_tasks_here(client, world, make):
    program = make_program(client, world, budget_fen=1_000_000)
    apply(client, world, program["id"], 400_000)
    member = make.member(world.coop, name="王五")
    _, member_headers = make.login("member", member)
    _, super_headers = make.login(None, None, superuser=True)
    assert tasks(client, member_headers) == []
    assert tasks(client, super_headers) == []
