"""A county holding every kind of money object, made the way its people make them: over
the API where a route exists, with the suite's factories and builders for the rest
(places, people, capital already in the register).

capital and share operations (the register), a year's accounts and trades, an approved
distribution plan paid out with a failed line re-issued and a paid line reversed, village
collective income, a reward round approved and paid, a program and a subsidy approved and
disbursed; the assembly's minutes in the attachment store.
"""
from __future__ import annotations

from datetime import date

import coop.crypto as crypto
from coop.attachments import services as attachments
from coop.transaction import unit_of_work
from coop.extensions import db
from tests.county.conftest import World
from tests.county.test_rewards import create_round, seed_worked_example
from tests.county.test_evaluations import make_program
from tests.distribution.builders import ADOPTING_VOTES, act, give_capital
from tests.factories import Factory

TODAY = date.today().isoformat()
# The assembly's minutes, uploaded into the attachment store.
MINUTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# The tables whose totals the drill must see non-zero (else it proves nothing).
MONEY_TABLES = ("share_operations", "share_lines", "share_balances", "annual_accounts",
                "trades", "distribution_plans", "distribution_lines", "payout_batches",
                "payout_lines", "collective_income_items", "reward_rounds", "reward_lines",
                "programs", "subsidy_applications")


def ok(response, status=200):
    assert response.status_code == status, response.get_json()
    return response.get_json()


def county_world(make: Factory) -> World:
    county = make.county(name="单县")
    town = make.town(county)
    village = make.village(town, secretary="李书记")
    other_village = make.village(town, secretary="王书记")
    county_b = make.county(name="郓城县")
    return World(
        county=county, village=village, other_village=other_village,
        # a subsidy is disbursed to the cooperative's basic deposit account (基本存款账户)
        coop=make.cooperative(village, bank_name="农商银行",
                              bank_account_enc=crypto.encrypt("6210000000000000007"),
                              bank_account_masked="6210****0007"),
        other_coop=make.cooperative(other_village),
        admin=make.login("county_admin", county),
        finance1=make.login("county_finance", county),
        finance2=make.login("county_finance", county),
        reviewers={d: make.login("county_reviewer", county, department=d)
                   for d in ("organization", "finance", "agriculture")},
        manager=None, county_b=county_b,
        finance_b=make.login("county_finance", county_b),
        admin_b=make.login("county_admin", county_b))


def seed_money_county(client) -> World:
    """Run inside the app's context; returns the county's world."""
    make = Factory(db.session)
    world = county_world(make)
    world.manager = make.login("coop_manager", world.coop)
    _rewards(client, world, make)
    _subsidy(client, world)
    _year(client, world, make)
    return world


def _rewards(client, world, make) -> None:
    seed_worked_example(client, world, make, db)
    rnd = ok(create_round(client, world), 201)
    approved = ok(client.post(f"/api/v1/reward-rounds/{rnd['id']}/approve",
                              headers=world.finance2[1]))
    batch = approved["payout_batch_id"]
    lines = ok(client.get(f"/api/v1/payout-batches/{batch}/lines?per_page=100",
                          headers=world.finance1[1]))["items"]
    # Lines of payees with no bank account on file are held out of the bank file.
    ok(client.post(f"/api/v1/payout-batches/{batch}/results", json=[
        {"line_id": line["id"], "status": "paid", "bank_ref": f"R{line['id']}",
         "paid_on": TODAY} for line in lines if line["status"] == "pending"],
        headers=world.finance1[1]))


def _subsidy(client, world) -> None:
    program = make_program(client, world, budget_fen=5_000_000)
    application = ok(client.post(
        f"/api/v1/cooperatives/{world.coop.id}/subsidy-applications",
        json={"program_id": program["id"], "amount_fen": 1_200_000, "purpose": "冷库建设"},
        headers=world.manager[1]), 201)
    ok(client.post(f"/api/v1/subsidy-applications/{application['id']}/approve",
                   headers=world.finance1[1]))
    ok(client.post(f"/api/v1/subsidy-applications/{application['id']}/disburse",
                   json={"paid_on": TODAY, "bank_ref": "NB-SUBSIDY-1"},
                   headers=world.finance2[1]))


def _year(client, world, make) -> None:
    """A cooperative's year from capital to a reversed payout line."""
    coop = make.cooperative(world.village, name="东村种植专业合作社")
    collective = make.member(coop, name="东村村民委员会", member_type="collective")
    farmers = [make.member(coop, name=n) for n in ("刘一", "陈二", "杨三", "黄四")]
    manager, h = make.login("coop_manager", coop)
    base = f"/api/v1/cooperatives/{coop.id}"
    give_capital(db.session, coop, {collective: 3_000_000,
                                    **{f: 1_400_000 for f in farmers}}, on=date(2024, 1, 10))
    op = ok(client.post(f"{base}/share-operations", json={
        "type": "subscribe", "member_id": farmers[0].id, "kind": "cash",
        "amount_fen": 200_000, "effective_on": "2024-02-01"}, headers=h), 201)
    ok(client.post(f"/api/v1/share-operations/{op['id']}/approve", headers=h))
    ok(client.put(f"{base}/years/2024", json={
        "revenue_fen": 50_000_000, "cost_fen": 38_000_000, "prior_loss_fen": 1_000_000,
        "wages_paid_fen": 4_000_000, "labour_days": 800, "fiscal_subsidy_fen": 600_000},
        headers=h))
    ok(client.post(f"{base}/years/2024/trades", json=[
        {"member_id": f.id, "amount_fen": 1_000_000 * (n + 1), "occurred_on": "2024-05-01"}
        for n, f in enumerate(farmers)], headers=h), 201)
    plan = ok(client.post(f"{base}/distributions", json={
        "year": 2024, "reserve_rate": "0.08", "patronage_rate": "0.70"}, headers=h), 201)
    act(client, h, plan["id"], "submit")
    act(client, h, plan["id"], "record-assembly", {**ADOPTING_VOTES, "held_on": TODAY})
    act(client, h, plan["id"], "publish", {"notice_days": 0})
    act(client, h, plan["id"], "approve")
    # Through the service: POST /attachments answers 404 at this commit (its form's
    # object_id reaches load_scoped as a string).
    with unit_of_work(db.session):
        attachments.add(db.session, manager, "cooperative", coop, "assembly_minutes",
                        "成员大会会议记录.pdf", MINUTES, None)
    batch = ok(client.post(f"/api/v1/distributions/{plan['id']}/payout-batch", json={},
                           headers={**h, "Idempotency-Key": "year-2024"}), 201)
    lines = ok(client.get(f"/api/v1/payout-batches/{batch['id']}/lines", headers=h))["items"]
    failed = lines[-1]["id"]
    ok(client.post(f"/api/v1/payout-batches/{batch['id']}/results", json=[
        {"line_id": line["id"], "status": "failed" if line["id"] == failed else "paid",
         "bank_ref": None if line["id"] == failed else f"BK{line['id']}", "paid_on": TODAY}
        for line in lines], headers=h))
    follow_up = ok(client.post(f"/api/v1/payout-batches/{batch['id']}/reissue", json={},
                               headers=h), 201)
    again = ok(client.get(f"/api/v1/payout-batches/{follow_up['id']}/lines", headers=h))
    ok(client.post(f"/api/v1/payout-batches/{follow_up['id']}/results", json=[
        {"line_id": again["items"][0]["id"], "status": "paid", "bank_ref": "BK-R",
         "paid_on": TODAY}], headers=h))
    ok(client.post(f"/api/v1/payout-lines/{lines[0]['id']}/reverse",
                   json={"reason": "重复支付，已追回"}, headers=h), 201)
