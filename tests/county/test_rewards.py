"""Reward rules and rounds: the worked example, four eyes, and no double payment."""
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from coop.audit import AuditEntry, verify
from coop.county.models import Program, RewardRound
from coop.county.rewards import increase_shares
from coop.payouts.models import PayoutBatch, PayoutLine
from tests.county.conftest import add_officer, add_professional_manager, problem_code
from tests.county.test_evaluations import make_program, score_all, set_rules

YUAN = 100


def put_income(client, world, village, year, yuan):
    response = client.put(f"/api/v1/villages/{village.id}/collective-income/{year}",
                          json={"amount_fen": yuan * YUAN}, headers=world.finance1[1])
    assert response.status_code == 200


def create_round(client, world, headers=None, year=2024, **extra):
    return client.post(f"/api/v1/counties/{world.county.id}/reward-rounds", json={"year": year},
                       headers={**(headers or world.finance1[1]), **extra})


def seed_worked_example(client, world, make, db):
    """Shan county's figures: income 1.2 M → 1.5 M yuan, rates 15 % / 15 %, award 300,000."""
    session = db.session
    put_income(client, world, world.village, 2023, 1_200_000)
    put_income(client, world, world.village, 2024, 1_500_000)
    put_income(client, world, world.other_village, 2023, 100_000)
    put_income(client, world, world.other_village, 2024, 900_000)
    coop = world.coop
    add_officer(session, coop, "李书记", role="chair")          # the secretary: excluded
    officers = [add_officer(session, coop, name, role=role,
                            bank_account=None if name == "刘理事" else "6228480000000000001")
                for name, role in (
        ("张理事", "director"), ("刘理事", "director"), ("陈监事长", "supervisor_chair"),
        ("杨监事", "supervisor"), ("赵会计", "accountant"))]
    # the secretary's term has the account the county pays the secretary's share into
    from coop.places.models import VillageSecretary
    term = session.execute(select(VillageSecretary).where(
        VillageSecretary.village_id == world.village.id)).scalar_one()
    term.bank_name, term.bank_account_masked = "农商银行", "6210****0003"
    from coop import crypto
    term.bank_account_enc = crypto.encrypt("6210000000000000003")
    session.commit()
    add_officer(session, coop, "黄前任", end_on=date(2023, 12, 31))   # term over before 2024
    managers = [add_professional_manager(session, coop, "周经理"),
                add_professional_manager(session, coop, "吴经理")]
    add_professional_manager(session, coop, "徐未来", start=date(2025, 1, 1))  # not yet
    # 张理事 also holds a manager contract: one person, one share.
    add_professional_manager(session, coop, "张理事", id_card=_id_card_of(officers[0]))
    # 刘理事 is a member with a bank account: the line is paid there.
    make.member(coop, name="刘理事", id_card=_id_card_of(officers[1]),
                bank_account="6228480000001234567")
    add_officer(session, world.other_coop, "孙理事")
    program = make_program(client, world, budget_fen=100_000_000 * YUAN)
    set_rules(client, world, program["id"])
    score_all(client, world, world.coop, [95, 92, 90])          # excellent
    score_all(client, world, world.other_coop, [90, 90, 89])    # good: nothing
    return program, officers, managers


def _id_card_of(officer):
    from coop import crypto
    return crypto.decrypt(officer.id_card_enc)


def test_worked_example_pays_award_secretary_and_managers_split_to_the_fen(client, world,
                                                                           make, db):
    program, officers, managers = seed_worked_example(client, world, make, db)
    response = create_round(client, world)
    assert response.status_code == 201, response.get_json()
    rnd = response.get_json()
    assert rnd["status"] == "draft"
    by_kind = {}
    for line in rnd["lines"]:
        by_kind.setdefault(line["kind"], []).append(line)
    # the one-time award to the excellent cooperative only
    assert [(x["cooperative_id"], x["amount_fen"]) for x in by_kind["award"]] == [
        (world.coop.id, 300_000 * YUAN)]
    # 15 % of (1,500,000 − 1,200,000) yuan = 45,000 yuan to the party secretary
    [secretary] = by_kind["secretary"]
    assert (secretary["payee_name"], secretary["amount_fen"]) == ("李书记", 45_000 * YUAN)
    assert (secretary["income_prev_fen"], secretary["income_fen"]) == (
        1_200_000 * YUAN, 1_500_000 * YUAN)
    # 45,000 yuan among the rules' manager_roles (default chair, director, professional
    # manager: supervisors and the accountant are not managers — issue 15 found them
    # sharing it) — the chair is the secretary, so 张理事 (once: he also holds a manager
    # contract), 刘理事, 周经理 and 吴经理: 1,125,000 fen each.
    expected = {p.name: 1_125_000 for p in officers[:2] + managers}
    assert {x["payee_name"]: x["amount_fen"] for x in by_kind["manager"]} == expected
    assert {x["payee_name"]: x["reason"] for x in by_kind["manager"]} == {
        "张理事": "理事", "刘理事": "理事", "周经理": "职业经理人", "吴经理": "职业经理人"}
    assert sum(x["amount_fen"] for x in by_kind["manager"]) == 45_000 * YUAN
    assert all(x["cooperative_id"] == world.coop.id for x in rnd["lines"])
    assert rnd["total_fen"] == (300_000 + 45_000 + 45_000) * YUAN
    assert rnd["line_count"] == 1 + 1 + 4


def test_approval_needs_a_second_finance_user_and_writes_one_payout_batch(client, world,
                                                                         make, db):
    program, officers, _ = seed_worked_example(client, world, make, db)
    rnd = create_round(client, world).get_json()
    approve = f"/api/v1/reward-rounds/{rnd['id']}/approve"
    response = client.post(approve, headers=world.finance1[1])
    assert (response.status_code, problem_code(response)) == (403, "FOUR_EYES_REQUIRED")
    response = client.post(approve, headers=world.admin[1])
    assert (response.status_code, problem_code(response)) == (403, "FORBIDDEN")
    response = client.post(approve, headers=world.finance2[1])
    assert response.status_code == 200, response.get_json()
    approved = response.get_json()
    assert approved["status"] == "approved"
    batch = db.session.get(PayoutBatch, approved["payout_batch_id"])
    assert (batch.source, batch.source_id, batch.year) == ("reward", rnd["id"], 2024)
    assert (batch.line_count, batch.total_fen) == (6, 390_000 * YUAN)
    lines = db.session.execute(select(PayoutLine)
                               .where(PayoutLine.batch_id == batch.id)).scalars().all()
    assert sorted(x.amount_fen for x in lines) == sorted(x["amount_fen"] for x in rnd["lines"])
    paid_to_member = [x for x in lines if x.payee_name == officers[1].name]
    assert paid_to_member[0].bank_account_masked.endswith("4567")
    assert paid_to_member[0].member_id is not None
    # the round's total is reserved against the rules' program
    body = client.get(f"/api/v1/programs/{program['id']}", headers=world.admin[1]).get_json()
    assert (body["committed_fen"], body["available_fen"]) == (
        390_000 * YUAN, (100_000_000 - 390_000) * YUAN)
    # a second approval, or a second round for the year, pays nobody twice
    response = client.post(approve, headers=world.finance2[1])
    assert (response.status_code, problem_code(response)) == (409, "STATE_CONFLICT")
    response = create_round(client, world, headers=world.finance2[1])
    assert (response.status_code, problem_code(response)) == (409, "STATE_CONFLICT")
    assert db.session.execute(select(func.count()).select_from(PayoutBatch)).scalar_one() == 1
    assert client.post(f"/api/v1/reward-rounds/{rnd['id']}/cancel", json={"reason": "x"},
                       headers=world.finance1[1]).status_code == 409
    actions = db.session.execute(select(AuditEntry.action).where(
        AuditEntry.object_type == "reward_round")).scalars().all()
    assert actions == ["reward_round.create", "reward_round.approve"]
    assert verify(db.session).ok


def test_rounds_are_listed_by_year_for_county_roles(client, world, make, db):
    seed_worked_example(client, world, make, db)
    rnd = create_round(client, world).get_json()
    url = f"/api/v1/counties/{world.county.id}/reward-rounds"
    listing = client.get(f"{url}?year=2024", headers=world.reviewers["finance"][1]).get_json()
    assert [x["id"] for x in listing["items"]] == [rnd["id"]]
    assert client.get(f"{url}?year=2023", headers=world.admin[1]).get_json()["total"] == 0
    detail = client.get(f"/api/v1/reward-rounds/{rnd['id']}", headers=world.admin[1]).get_json()
    assert detail["lines"] == rnd["lines"]
    assert client.get(url, headers=world.manager[1]).status_code == 403


def test_approval_is_idempotent_with_the_same_key(client, world, make, db):
    seed_worked_example(client, world, make, db)
    rnd = create_round(client, world).get_json()
    headers = {**world.finance2[1], "Idempotency-Key": "approve-1"}
    first = client.post(f"/api/v1/reward-rounds/{rnd['id']}/approve", headers=headers)
    again = client.post(f"/api/v1/reward-rounds/{rnd['id']}/approve", headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()
    assert db.session.execute(select(func.count()).select_from(PayoutBatch)).scalar_one() == 1


def test_round_over_the_program_budget_is_refused_and_stays_draft(client, world, make, db):
    program, _, _ = seed_worked_example(client, world, make, db)
    db.session.get(Program, program["id"]).budget_fen = 390_000 * YUAN - 1
    db.session.commit()
    rnd = create_round(client, world).get_json()
    response = client.post(f"/api/v1/reward-rounds/{rnd['id']}/approve",
                           headers=world.finance2[1])
    assert (response.status_code, problem_code(response)) == (422, "BUDGET_EXCEEDED")
    assert db.session.get(RewardRound, rnd["id"]).status == "draft"
    assert db.session.get(Program, program["id"]).committed_fen == 0
    assert db.session.execute(select(func.count()).select_from(PayoutBatch)).scalar_one() == 0


def test_a_cancelled_round_frees_the_year_and_is_never_paid(client, world, make, db):
    seed_worked_example(client, world, make, db)
    first = create_round(client, world).get_json()
    response = client.post(f"/api/v1/reward-rounds/{first['id']}/cancel",
                           json={"reason": "收入数据有误"}, headers=world.finance1[1])
    assert response.get_json()["status"] == "cancelled"
    assert client.post(f"/api/v1/reward-rounds/{first['id']}/approve",
                       headers=world.finance2[1]).status_code == 409
    second = create_round(client, world)
    assert second.status_code == 201
    assert second.get_json()["total_fen"] == first["total_fen"]
    rejected = client.post(f"/api/v1/reward-rounds/{second.get_json()['id']}/reject",
                           json={"reason": "不同意"}, headers=world.finance2[1]).get_json()
    assert rejected["status"] == "rejected"
    assert create_round(client, world).status_code == 201


def test_rules_and_scores_are_frozen_while_a_round_is_live(client, world, make, db):
    program, _, _ = seed_worked_example(client, world, make, db)
    create_round(client, world)
    response = client.put(f"/api/v1/counties/{world.county.id}/reward-rules/2024",
                          json={"excellent_award_fen": 1, "secretary_rate": "0.1",
                                "managers_rate": "0.1", "excellent_min_score": 80,
                                "program_id": program["id"]}, headers=world.admin[1])
    assert (response.status_code, problem_code(response)) == (409, "STATE_CONFLICT")
    response = client.put(f"/api/v1/cooperatives/{world.coop.id}/evaluations/2024/scores/finance",
                          json={"score": 10}, headers=world.reviewers["finance"][1])
    assert (response.status_code, problem_code(response)) == (409, "STATE_CONFLICT")


def test_no_round_without_rules_or_excellent_cooperatives(client, world, make, db):
    response = create_round(client, world)
    assert (response.status_code, problem_code(response)) == (422, "REWARD_RULES_MISSING")
    program = make_program(client, world)
    set_rules(client, world, program["id"])
    score_all(client, world, world.coop, [80, 80, 80])
    response = create_round(client, world)
    assert (response.status_code, problem_code(response)) == (422, "NOTHING_TO_REWARD")
    score_all(client, world, world.other_coop, [99])
    response = create_round(client, world)
    assert (response.status_code, problem_code(response)) == (422, "EVALUATIONS_PENDING")


def test_no_income_increase_means_only_the_award(client, world, make, db):
    put_income(client, world, world.village, 2023, 1_500_000)
    put_income(client, world, world.village, 2024, 1_200_000)
    add_officer(db.session, world.coop, "张理事")
    program = make_program(client, world)
    set_rules(client, world, program["id"])
    score_all(client, world, world.coop, [95, 95, 95])
    rnd = create_round(client, world).get_json()
    assert [(x["kind"], x["amount_fen"]) for x in rnd["lines"]] == [("award", 300_000 * YUAN)]


def test_reward_rules_validate_rates_thresholds_and_program(client, world):
    program = make_program(client, world)
    url = f"/api/v1/counties/{world.county.id}/reward-rules/2024"
    base = {"excellent_award_fen": 1, "secretary_rate": "0.15", "managers_rate": "0.15",
            "excellent_min_score": 90, "program_id": program["id"]}
    for bad in ({"secretary_rate": 0.15}, {"secretary_rate": "1.5"}, {"managers_rate": "-0.1"},
                {"managers_rate": "0.12345"}, {"excellent_min_score": 101},
                {"excellent_min_score": 70, "good_min_score": 80},
                {"program_id": program["id"] + 1000}, {"extra": 1}):
        response = client.put(url, json={**base, **bad}, headers=world.admin[1])
        assert response.status_code == 422, bad
    response = client.put(url, json=base, headers=world.reviewers["finance"][1])
    assert response.status_code == 403
    body = client.put(url, json=base, headers=world.finance1[1]).get_json()
    assert (body["secretary_rate"], body["good_min_score"], body["pass_min_score"]) == (
        "0.15", 75, 60)


def test_program_of_another_county_is_refused_in_rules(client, world):
    response = client.post(f"/api/v1/counties/{world.county_b.id}/programs",
                           json={"name": "B", "year": 2024, "budget_fen": 1},
                           headers=world.finance_b[1])
    response = client.put(f"/api/v1/counties/{world.county.id}/reward-rules/2024",
                          json={"excellent_award_fen": 1, "secretary_rate": "0.15",
                                "managers_rate": "0.15", "excellent_min_score": 90,
                                "program_id": response.get_json()["id"]},
                          headers=world.admin[1])
    assert response.status_code == 422


def test_county_b_staff_cannot_see_or_act_on_county_a_rounds(client, world, make, db):
    seed_worked_example(client, world, make, db)
    rnd = create_round(client, world).get_json()
    for method, path in (("get", f"/api/v1/reward-rounds/{rnd['id']}"),
                         ("post", f"/api/v1/reward-rounds/{rnd['id']}/approve"),
                         ("post", f"/api/v1/counties/{world.county.id}/reward-rounds"),
                         ("put", f"/api/v1/counties/{world.county.id}/reward-rules/2024")):
        response = getattr(client, method)(path, json={"year": 2024},
                                           headers=world.finance_b[1])
        assert response.status_code == 404, path


rates = st.decimals(min_value=0, max_value=1, places=4)


@settings(max_examples=300, deadline=None)
@given(increase=st.integers(-10**12, 10**12), secretary_rate=rates, managers_rate=rates,
       n=st.integers(0, 30))
def test_increase_shares_sum_exactly_and_differ_by_at_most_a_fen(increase, secretary_rate,
                                                                 managers_rate, n):
    secretary, parts = increase_shares(increase, secretary_rate, managers_rate,
                                       [(0, i) for i in range(n)])
    basis = max(0, increase)
    exact_secretary = Decimal(basis) * secretary_rate
    assert abs(Decimal(secretary) - exact_secretary) <= Decimal("0.5")
    assert len(parts) == n
    if n:
        exact_pool = Decimal(basis) * managers_rate
        assert abs(Decimal(sum(parts)) - exact_pool) <= Decimal("0.5")
        assert max(parts) - min(parts) <= 1
        assert parts == sorted(parts, reverse=True)   # odd fen go to the first keys


def test_paid_reward_lines_move_budget_from_committed_to_disbursed(client, world, make, db):
    program, _, _ = seed_worked_example(client, world, make, db)
    rnd = create_round(client, world).get_json()
    approved = client.post(f"/api/v1/reward-rounds/{rnd['id']}/approve",
                           headers=world.finance2[1]).get_json()
    batch_id = approved["payout_batch_id"]
    lines = db.session.execute(select(PayoutLine).where(PayoutLine.batch_id == batch_id)
                               .order_by(PayoutLine.id)).scalars().all()
    paid, failed = lines[:-1], lines[-1]
    results = [{"line_id": x.id, "status": "paid", "bank_ref": f"B{x.id}",
                "paid_on": date.today().isoformat()} for x in paid]
    results.append({"line_id": failed.id, "status": "failed", "bank_ref": "R1",
                    "paid_on": date.today().isoformat(), "reason": "账户已销户"})
    response = client.post(f"/api/v1/payout-batches/{batch_id}/results", json=results,
                           headers=world.finance1[1])
    assert response.status_code == 200, response.get_json()
    body = client.get(f"/api/v1/programs/{program['id']}", headers=world.admin[1]).get_json()
    paid_fen = sum(x.amount_fen for x in paid)
    assert body["disbursed_fen"] == paid_fen
    assert body["committed_fen"] == 390_000 * YUAN - paid_fen
    assert body["available_fen"] == (100_000_000 - 390_000) * YUAN
