"""Reward rounds from complete figures (issue 15, CONTRACT §10).

The worked example (郓城 figures): income 1.2 M → 1.5 M yuan, rates 15 % / 15 % →
secretary 45,000 yuan, managers 45,000 split to the fen among manager_roles, award
300,000; the next year the same cooperative gets no award again (award_once) while the
increase shares are computed again. A missing prior year, a missing secretary, a shell
cooperative: each refused or left out, and every missing figure listed in one answer."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import select

import coop.clock as clock
from coop.places.models import VillageSecretary
from tests.county.conftest import add_officer, add_professional_manager, problem_code
from tests.county.test_evaluations import make_program, score_all, set_rules
from tests.county.test_rewards import create_round, put_income

YUAN = 100


def _secretary_account(db, village, account="6210000000000000003"):
    from coop import crypto
    term = db.session.execute(select(VillageSecretary).where(
        VillageSecretary.village_id == village.id)).scalar_one()
    term.bank_name, term.bank_account_masked = "农商银行", crypto.mask_account(account)
    term.bank_account_enc = crypto.encrypt(account)
    db.session.commit()
    return term


def yuncheng(client, world, db, years=(2024,)):
    session = db.session
    put_income(client, world, world.village, 2023, 1_200_000)
    put_income(client, world, world.village, 2024, 1_500_000)
    add_officer(session, world.coop, "李书记", role="chair")          # the secretary
    add_officer(session, world.coop, "张理事", role="director")
    add_officer(session, world.coop, "王理事", role="director")
    add_officer(session, world.coop, "陈监事", role="supervisor")     # not a manager role
    add_professional_manager(session, world.coop, "周经理")
    _secretary_account(db, world.village)
    program = make_program(client, world, budget_fen=10_000_000 * YUAN, year=years[0])
    for year in years:
        set_rules(client, world, program["id"], year=year)
        score_all(client, world, world.coop, [95, 92, 90], year=year)
        score_all(client, world, world.other_coop, [60, 60, 60], year=year)
    return program


def lines_by_kind(rnd):
    out = {}
    for line in rnd["lines"]:
        out.setdefault(line["kind"], []).append(line)
    return out


def test_yuncheng_worked_example_and_the_next_year_pays_no_award_again(client, world, db):
    program = yuncheng(client, world, db, years=(2024, 2025))
    response = create_round(client, world, year=2024)
    assert response.status_code == 201, response.get_json()
    first = lines_by_kind(response.get_json())
    assert [x["amount_fen"] for x in first["award"]] == [300_000 * YUAN]
    [secretary] = first["secretary"]
    assert (secretary["payee_name"], secretary["amount_fen"]) == ("李书记", 45_000 * YUAN)
    assert (secretary["income_fen"], secretary["prior_income_fen"],
            secretary["increase_fen"], secretary["rate"]) == (
        1_500_000 * YUAN, 1_200_000 * YUAN, 300_000 * YUAN, "0.15")
    # 4,500,000 fen among 张理事, 王理事, 周经理: 1,500,000 each; the supervisor and the
    # secretary (the chair) take nothing from the managers' pool
    managers = {x["payee_name"]: x["amount_fen"] for x in first["manager"]}
    assert managers == {"张理事": 1_500_000, "王理事": 1_500_000, "周经理": 1_500_000}
    assert sum(managers.values()) == 45_000 * YUAN
    approved = client.post(f"/api/v1/reward-rounds/{response.get_json()['id']}/approve",
                           headers=world.finance2[1])
    assert approved.status_code == 200, approved.get_json()
    lines = client.get(f"/api/v1/reward-rounds/{response.get_json()['id']}/lines",
                       headers=world.reviewers["finance"][1]).get_json()
    assert lines["total"] == 5 and {x["reason"] for x in lines["items"]} == {
        "考核优秀", "村党组织书记", "理事", "职业经理人"}
    # the next year: 1.5 M → 1.8 M; the one-time award is not paid again
    put_income(client, world, world.village, 2025, 1_800_000)
    second = create_round(client, world, year=2025)
    assert second.status_code == 201, second.get_json()
    again = lines_by_kind(second.get_json())
    assert "award" not in again
    assert [x["amount_fen"] for x in again["secretary"]] == [45_000 * YUAN]
    assert sum(x["amount_fen"] for x in again["manager"]) == 45_000 * YUAN
    # the cooperative's manager sees its award and its people's lines of approved rounds
    mine = client.get(f"/api/v1/cooperatives/{world.coop.id}/rewards?year=2024",
                      headers=world.manager[1]).get_json()
    assert mine["total"] == 5
    assert client.get(f"/api/v1/cooperatives/{world.coop.id}/evaluations/2024",
                      headers=world.manager[1]).get_json()["grade"] == "excellent"
    assert program["id"]


def test_award_once_false_pays_the_award_again(client, world, db):
    program = yuncheng(client, world, db, years=(2024, 2025))
    set_rules(client, world, program["id"], year=2025, award_once=False)
    rnd = create_round(client, world, year=2024).get_json()
    client.post(f"/api/v1/reward-rounds/{rnd['id']}/approve", headers=world.finance2[1])
    put_income(client, world, world.village, 2025, 1_500_000)
    again = lines_by_kind(create_round(client, world, year=2025).get_json())
    assert [x["amount_fen"] for x in again["award"]] == [300_000 * YUAN]
    assert "secretary" not in again            # no increase, no share


def test_a_missing_prior_year_is_not_zero_and_every_gap_is_listed_at_once(client, world,
                                                                          db):
    """Issue 15: with no 2023 figure the secretary's 15 % came out at 225,000 yuan."""
    yuncheng(client, world, db)
    # make the other cooperative excellent too: its village has no income at all
    score_all(client, world, world.other_coop, [95, 95, 95])
    from coop.county.models import CollectiveIncomeItem
    db.session.execute(CollectiveIncomeItem.__table__.delete().where(
        CollectiveIncomeItem.year == 2023))
    db.session.commit()
    response = create_round(client, world, year=2024)
    assert (response.status_code, problem_code(response)) == (422, "REWARD_BASIS_INCOMPLETE")
    errors = response.get_json()["errors"]
    assert set(errors) == {f"village:{world.village.id}", f"village:{world.other_village.id}"}
    assert len(errors[f"village:{world.village.id}"]) == 1          # 2023 only
    assert len(errors[f"village:{world.other_village.id}"]) == 2    # 2023 and 2024


def test_a_village_without_a_secretary_on_31_december_is_refused(client, world, db):
    yuncheng(client, world, db)
    term = db.session.execute(select(VillageSecretary).where(
        VillageSecretary.village_id == world.village.id)).scalar_one()
    term.end_on = date(2024, 6, 30)
    db.session.commit()
    response = create_round(client, world, year=2024)
    assert (response.status_code, problem_code(response)) == (422, "REWARD_BASIS_INCOMPLETE")
    [reason] = response.get_json()["errors"][f"village:{world.village.id}"]
    assert "书记" in reason


def test_a_cooperative_since_found_a_shell_is_not_rewarded(client, world, db):
    yuncheng(client, world, db)
    response = client.post(f"/api/v1/cooperatives/{world.coop.id}/status-changes",
                           json={"to": "shell", "reason": "核查为空壳社"},
                           headers=world.admin[1])
    assert response.status_code in (200, 201), response.get_json()
    response = create_round(client, world, year=2024)
    assert (response.status_code, problem_code(response)) == (422, "NOTHING_TO_REWARD")


def test_a_subsidy_dated_today_is_accepted_at_one_in_the_morning_china_time(
        client, world, db, monkeypatch):
    """Issue 15: disbursing a subsidy dated today was refused from 00:00 to 08:00 China
    time. The clock at 01:00 China time is 17:00 UTC the day before."""
    moment = datetime(2025, 3, 9, 17, 0, tzinfo=timezone.utc)
    monkeypatch.setattr(clock, "now", lambda: moment)
    assert clock.today() == date(2025, 3, 10)
    program = make_program(client, world, budget_fen=1_000_000, year=2025)
    app = client.post(f"/api/v1/cooperatives/{world.coop.id}/subsidy-applications",
                      headers=world.manager[1],
                      json={"program_id": program["id"], "amount_fen": 100_000,
                            "purpose": "冷库"}).get_json()
    url = f"/api/v1/subsidy-applications/{app['id']}"
    assert client.post(url + "/approve", headers=world.finance1[1],
                       json={"amount_fen": 80_000}).status_code == 200
    response = client.post(url + "/disburse", headers=world.finance2[1],
                           json={"paid_on": "2025-03-10", "bank_ref": "GK0310"})
    assert response.status_code == 200, response.get_json()
    body = client.get(f"/api/v1/programs/{program['id']}", headers=world.admin[1]).get_json()
    assert (body["disbursed_fen"], body["committed_fen"]) == (80_000, 0)
    # tomorrow (China) is still refused
    response = client.post(url + "/disburse", headers=world.finance2[1],
                           json={"paid_on": "2025-03-11", "bank_ref": "GK0311"})
    assert response.status_code in (409, 422)
