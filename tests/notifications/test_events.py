"""Each change tells the right people, in its own transaction (CONTRACT §12).

Recipients are the holders of the acting role inside the object's own scope: the same
county's finance staff, the same cooperative's managers, the member record's own user. A
second county's staff and another cooperative's managers are in every test, and are
never told.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

import coop.audit as audit
import coop.clock as clock
from coop.county.models import RewardRound, SubsidyApplication
from coop.county.subsidies import approve_application
from coop.distribution import governance
from coop.distribution.models import DistributionLine, DistributionPlan
from coop.errors import Conflict
from coop.notifications.models import Notification
from coop.payouts.models import PayoutLine
from coop.payouts.services import Payee, create_batch
from coop.transaction import unit_of_work
from tests.county.test_evaluations import make_program
from tests.county.test_subsidies import action, apply
from tests.notifications.conftest import bind, inbox, kinds


@pytest.fixture
def outsiders(make, world):
    """A manager of the county's other cooperative; county B's staff are in the world."""
    return {"other_manager": make.login("coop_manager", world.other_coop),
            "finance_b": world.finance_b, "admin_b": world.admin_b}


def nobody_else_told(client, outsiders):
    for name, (_, headers) in outsiders.items():
        assert inbox(client, headers)["total"] == 0, name


def submitted(client, world, amount_fen=400_000) -> int:
    program = make_program(client, world, budget_fen=1_000_000)
    response = apply(client, world, program["id"], amount_fen)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_an_application_asks_the_countys_finance_staff_to_decide(client, world, outsiders):
    app_id = submitted(client, world)
    for user, headers in (world.finance1, world.finance2):
        body = inbox(client, headers)
        assert (body["total"], body["unread"]) == (1, 1)
        [note] = body["items"]
        assert (note["kind"], note["event"], note["object_type"], note["object_id"]) == (
            "application_to_decide", "task_created", "subsidy_application", app_id)
        assert note["read_at"] is None and "4,000.00 元" in note["body"]
    assert kinds(client, world.manager[1]) == []        # the applicant is not told
    assert kinds(client, world.admin[1]) == []          # the admin does not decide
    nobody_else_told(client, outsiders)


def test_an_approval_tells_the_managers_and_asks_another_finance_user_to_disburse(
        client, world, outsiders):
    app_id = submitted(client, world)
    assert action(client, app_id, "approve", world.finance1[1]).status_code == 200
    [approved] = inbox(client, world.manager[1])["items"]
    assert (approved["kind"], approved["event"], approved["title"]) == (
        "application_approved", "application_decided", "补助申请已批准")
    assert kinds(client, world.finance2[1]) == ["disbursement_to_make", "application_to_decide"]
    # Four eyes: the approver may not disburse, and is not asked to.
    assert kinds(client, world.finance1[1]) == ["application_to_decide"]
    nobody_else_told(client, outsiders)

    response = action(client, app_id, "disburse", world.finance2[1],
                      {"paid_on": "2024-06-30", "bank_ref": "NB1"})
    assert response.status_code == 200, response.get_json()
    made = inbox(client, world.manager[1])["items"][0]
    assert (made["kind"], made["event"]) == ("disbursement_made", "disbursement_made")
    assert "2024-06-30" in made["body"]
    nobody_else_told(client, outsiders)


def test_a_rejection_tells_the_managers_why(client, world, outsiders):
    app_id = submitted(client, world)
    response = action(client, app_id, "reject", world.finance1[1], {"reason": "材料不全"})
    assert response.status_code == 200, response.get_json()
    [note] = inbox(client, world.manager[1])["items"]
    assert note["kind"] == "application_rejected" and "材料不全" in note["body"]
    nobody_else_told(client, outsiders)


def test_a_rolled_back_change_leaves_no_notification(client, world, db):
    app_id = submitted(client, world)
    before = db.session.execute(select(func.count()).select_from(Notification)).scalar_one()
    application = db.session.get(SubsidyApplication, app_id)
    finance1 = world.finance1[0]
    with pytest.raises(Conflict):
        with unit_of_work(db.session):
            approve_application(db.session, finance1, application)
            # The listener has written its rows in this transaction by now…
            assert db.session.execute(select(func.count()).select_from(Notification)
                                      ).scalar_one() > before
            raise Conflict("a later step refused")      # …and they go with it
    assert db.session.execute(select(func.count()).select_from(Notification)
                              ).scalar_one() == before
    assert kinds(client, world.manager[1]) == []
    assert kinds(client, world.finance2[1]) == ["application_to_decide"]


def test_a_round_asks_the_other_finance_users_and_its_decision_tells_the_creator(
        client, world, db, outsiders):
    program = make_program(client, world)
    creator = db.session.merge(world.finance1[0])
    rnd = RewardRound(county_id=world.county.id, year=2024, live_year=2024, status="draft",
                      program_id=program["id"], excellent_award_fen=30_000_000,
                      secretary_rate=Decimal("0.15"), managers_rate=Decimal("0.15"),
                      total_fen=30_000_000, line_count=1, created_by=creator.id)
    db.session.add(rnd)
    db.session.commit()
    # What coop/county/rewards.py records when it creates and when it decides a round.
    with unit_of_work(db.session):
        audit.record(db.session, creator, "reward_round.create", "reward_round", rnd.id)
    assert kinds(client, world.finance2[1]) == ["round_to_approve"]
    assert kinds(client, world.finance1[1]) == []
    with unit_of_work(db.session):
        rnd.status, rnd.reason = "rejected", "数据有误"
        audit.record(db.session, world.finance2[0], "reward_round.reject", "reward_round",
                     rnd.id)
    [decided] = inbox(client, world.finance1[1])["items"]
    assert decided["kind"] == "round_rejected" and "数据有误" in decided["body"]
    nobody_else_told(client, outsiders)


def _member_user(make, member):
    return make.login("member", member)


def test_paid_and_failed_lines_tell_their_members_and_failures_the_other_payers(
        client, make, world, db, outsiders):
    coop = world.coop
    paid_member, failed_member, unpaid_member = (make.member(coop) for _ in range(3))
    users = {m.id: _member_user(make, m) for m in (paid_member, failed_member, unpaid_member)}
    second_manager = make.login("coop_manager", coop)
    with unit_of_work(db.session):
        batch = create_batch(db.session, None, county_id=coop.county_id, cooperative_id=coop.id,
                             source="distribution", source_id=1, year=2024, payees=[
                                 Payee(payee_type="member", payee_name=m.name, amount_fen=fen,
                                       cooperative_id=coop.id, town_id=coop.town_id,
                                       member_id=m.id, bank_name=m.bank_name,
                                       bank_account_enc=m.bank_account_enc,
                                       bank_account_masked=m.bank_account_masked)
                                 for m, fen in ((paid_member, 60_000), (failed_member, 70_000),
                                                (unpaid_member, 80_000))])
    lines = {line.member_id: line.id for line in db.session.execute(
        select(PayoutLine).where(PayoutLine.batch_id == batch.id)).scalars()}
    today = clock.today().isoformat()
    response = client.post(f"/api/v1/payout-batches/{batch.id}/results", json=[
        {"line_id": lines[paid_member.id], "status": "paid", "bank_ref": "B1",
         "paid_on": today},
        {"line_id": lines[failed_member.id], "status": "failed", "reason": "账户已销户"}],
        headers=world.manager[1])
    assert response.status_code == 200, response.get_json()
    [paid] = inbox(client, users[paid_member.id][1])["items"]
    assert (paid["kind"], paid["object_type"], paid["object_id"]) == (
        "payout_paid", "payout_line", lines[paid_member.id])
    assert "600.00 元" in paid["body"]
    [failed] = inbox(client, users[failed_member.id][1])["items"]
    assert failed["kind"] == "payout_failed" and "账户已销户" in failed["body"]
    assert kinds(client, users[unpaid_member.id][1]) == []
    assert kinds(client, second_manager[1]) == ["batch_with_failed_lines"]
    assert kinds(client, world.manager[1]) == []        # the one who recorded the results
    nobody_else_told(client, outsiders)


def _plan(db, coop, members, creator) -> DistributionPlan:
    plan = DistributionPlan(county_id=coop.county_id, cooperative_id=coop.id, year=2024,
                            live_year=2024, method="statutory", reserve_rate=Decimal("0.10"),
                            status="assembly_approved", basis_digest="0" * 64,
                            surplus_fen=2_000_000, distributable_fen=1_800_000,
                            line_count=len(members), created_by=creator.id,
                            submitted_at=clock.now())
    db.session.add(plan)
    db.session.flush()
    for m in members:
        db.session.add(DistributionLine(plan_id=plan.id, county_id=coop.county_id,
                                        cooperative_id=coop.id, member_id=m.id,
                                        total_fen=900_000, patronage_fen=900_000))
    db.session.commit()
    return plan


def test_a_published_notice_tells_managers_and_members_then_asks_to_approve_when_over(
        client, make, world, db, outsiders, monkeypatch):
    coop = world.coop
    member, other_coops_member = make.member(coop), make.member(world.other_coop)
    member_user = _member_user(make, member)
    outsiders["other_member"] = _member_user(make, other_coops_member)
    second_manager = make.login("coop_manager", coop)
    plan = _plan(db, coop, [member], world.manager[0])
    with unit_of_work(db.session):
        governance.publish(db.session, db.session.merge(world.manager[0]), plan,
                           notice_days=7, min_days=0)
    for headers in (member_user[1], second_manager[1]):
        assert kinds(client, headers) == ["notice_published"]
    assert kinds(client, world.manager[1]) == []        # the publisher
    nobody_else_told(client, outsiders)
    # Seven days on, the notice is over: the managers (the publisher too) are asked.
    later = clock.now() + timedelta(days=7, minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert kinds(client, world.manager[1]) == ["plan_ready_to_approve"]
    assert kinds(client, second_manager[1]) == ["plan_ready_to_approve", "notice_published"]
    assert kinds(client, member_user[1]) == ["notice_published"]


def test_a_cancelled_plan_withdraws_its_end_of_notice_task(client, make, world, db,
                                                          monkeypatch):
    plan = _plan(db, world.coop, [make.member(world.coop)], world.manager[0])
    manager = db.session.merge(world.manager[0])
    with unit_of_work(db.session):
        governance.publish(db.session, manager, plan, notice_days=7, min_days=0)
    with unit_of_work(db.session):
        governance.cancel(db.session, manager, plan)
    later = clock.now() + timedelta(days=8)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert kinds(client, world.manager[1]) == []
    assert db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.kind == "plan_ready_to_approve")).scalar_one() == 0


def test_a_share_operation_asks_the_other_managers(client, make, world, db, outsiders):
    member = make.member(world.coop)
    second_manager = make.login("coop_manager", world.coop)
    response = client.post(f"/api/v1/cooperatives/{world.coop.id}/share-operations", json={
        "type": "subscribe", "member_id": member.id, "kind": "cash", "amount_fen": 50_000,
        "effective_on": "2024-05-01"}, headers=world.manager[1])
    assert response.status_code == 201, response.get_json()
    assert kinds(client, second_manager[1]) == ["operation_to_approve"]
    assert kinds(client, world.manager[1]) == []
    nobody_else_told(client, outsiders)


def test_wechat_deliveries_only_for_bound_users_and_configured_templates(
        client, world, db, app, monkeypatch):
    bind(db.session, world.finance1[0], "openid-f1")
    monkeypatch.setitem(app.config, "WECHAT_TEMPLATES", {"task_created": "TPL-task"})
    app_id = submitted(client, world)
    queued = db.session.execute(select(Notification).where(
        Notification.wechat_status.is_not(None))).scalars().all()
    assert [(n.user_id, n.event, n.wechat_status) for n in queued] == [
        (world.finance1[0].id, "task_created", "pending")]
    # application_decided has no template here: the manager's news is in the inbox only.
    bind(db.session, world.manager[0], "openid-m")
    assert action(client, app_id, "approve", world.finance1[1]).status_code == 200
    assert kinds(client, world.manager[1]) == ["application_approved"]
    assert db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.user_id == world.manager[0].id,
        Notification.wechat_status.is_not(None))).scalar_one() == 0


def test_users_without_a_role_in_scope_or_disabled_are_not_told(client, make, world, db):
    disabled = make.login("county_finance", world.county)
    disabled[0].status = "disabled"
    db.session.commit()
    submitted(client, world)
    assert db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.user_id == disabled[0].id)).scalar_one() == 0


def test_a_role_grant_tells_the_grantee_and_the_countys_other_admins(client, make, world,
                                                                     outsiders):
    other_admin = make.login("county_admin", world.county)
    newcomer = make.login("county_reviewer", world.county, department="finance")
    response = client.post(f"/api/v1/users/{newcomer[0].id}/roles", json={
        "role": "county_finance", "scope_type": "county", "scope_id": world.county.id},
        headers=world.admin[1])
    assert response.status_code == 201, response.get_json()
    [note] = inbox(client, newcomer[1])["items"]
    assert (note["kind"], note["event"]) == ("role_granted", "account")
    assert "县财政人员" in note["body"]
    [notice] = inbox(client, other_admin[1])["items"]
    assert notice["kind"] == "role_granted_notice" and newcomer[0].name in notice["body"]
    assert kinds(client, world.admin[1]) == []          # the granting admin
    nobody_else_told(client, outsiders)


def test_a_batch_with_held_lines_asks_the_other_payers_for_accounts(client, make, world, db,
                                                                   outsiders):
    coop = world.coop
    second_manager = make.login("coop_manager", coop)
    without_account = make.member(coop, bank_account=None)
    with unit_of_work(db.session):
        create_batch(db.session, db.session.merge(world.manager[0]), county_id=coop.county_id,
                     cooperative_id=coop.id, source="distribution", source_id=7, year=2024,
                     payees=[Payee(payee_type="member", payee_name=without_account.name,
                                   amount_fen=10_000, cooperative_id=coop.id,
                                   town_id=coop.town_id, member_id=without_account.id)])
    [note] = inbox(client, second_manager[1])["items"]
    assert note["kind"] == "lines_held" and "1 行缺银行账户" in note["body"]
    assert kinds(client, world.manager[1]) == []
    nobody_else_told(client, outsiders)
