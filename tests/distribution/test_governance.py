"""The plan's governance road (CONTRACT §5): states, votes, notice, approval, cancel."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from coop.distribution.models import DistributionLine, DistributionPlan
from coop.shares.models import ShareOperation
from coop.shares.register import member_totals_as_of
from tests.distribution.builders import (ADOPTING_VOTES, act, approved_plan, create_plan,
                                         give_trades, worked_example)


@pytest.fixture
def example(make, db):
    coop, *members = worked_example(make, db.session)
    _, headers = make.login("coop_manager", coop)
    return coop, headers, members


@pytest.fixture
def submitted(client, example):
    coop, headers, members = example
    plan = create_plan(client, headers, coop)
    act(client, headers, plan["id"], "submit")
    return coop, headers, members, plan["id"]


def test_the_whole_road_to_approval(client, example):
    coop, headers, _ = example
    plan = create_plan(client, headers, coop)
    assert act(client, headers, plan["id"], "submit")["status"] == "submitted"
    adopted = act(client, headers, plan["id"], "record-assembly", ADOPTING_VOTES)
    assert adopted["status"] == "assembly_approved"
    assert adopted["assembly"] == {"held_on": "2025-01-20", "basic_votes_total": 5,
                                   "extra_votes_total": 1, "votes_for": 4,
                                   "votes_against": 1, "abstentions": 1}
    published = act(client, headers, plan["id"], "publish", {"notice_days": 0})
    assert published["status"] == "publicized"
    assert "/public/disclosures/" in published["public_url"]
    assert act(client, headers, plan["id"], "approve")["status"] == "approved"


@pytest.mark.parametrize("action, body", [
    ("approve", {}), ("publish", {"notice_days": 7}), ("record-assembly", ADOPTING_VOTES),
])
def test_wrong_state_actions_are_409_state_conflict(client, example, action, body):
    coop, headers, _ = example
    plan = create_plan(client, headers, coop)
    response = client.post(f"/api/v1/distributions/{plan['id']}/{action}", json=body,
                           headers=headers)
    assert response.status_code == 409
    assert response.get_json()["code"] == "STATE_CONFLICT"


def test_submitting_twice_is_409(client, submitted):
    coop, headers, _, plan_id = submitted
    act(client, headers, plan_id, "submit", status=409)


def test_extra_votes_over_twenty_percent_of_basic_are_refused(client, submitted):
    coop, headers, _, plan_id = submitted
    over = {**ADOPTING_VOTES, "basic_votes_total": 10, "extra_votes_total": 3, "votes_for": 9}
    response = client.post(f"/api/v1/distributions/{plan_id}/record-assembly", json=over,
                           headers=headers)
    assert response.status_code == 422
    assert response.get_json()["code"] == "EXTRA_VOTES_OVER_LIMIT"
    exactly = {**over, "extra_votes_total": 2}            # 2 of 10 is exactly 20%: allowed
    assert act(client, headers, plan_id, "record-assembly", exactly)["status"] == \
        "assembly_approved"


def test_half_of_all_votes_is_not_a_majority_and_rejects_the_plan(client, submitted):
    coop, headers, _, plan_id = submitted
    # 10 basic + 2 extra = 12 votes; 6 for is not more than half
    tie = {**ADOPTING_VOTES, "basic_votes_total": 10, "extra_votes_total": 2,
           "votes_for": 6, "votes_against": 6, "abstentions": 0}
    rejected = act(client, headers, plan_id, "record-assembly", tie)
    assert rejected["status"] == "rejected"
    act(client, headers, plan_id, "publish", {"notice_days": 7}, status=409)
    # a rejected plan frees the year for a new draft
    assert create_plan(client, headers, coop)["status"] == "draft"


def test_a_majority_counts_extra_votes(client, submitted):
    coop, headers, _, plan_id = submitted
    # 7 for of 10 + 2 = 12: 7 > 6 adopts
    votes = {**ADOPTING_VOTES, "basic_votes_total": 10, "extra_votes_total": 2,
             "votes_for": 7, "votes_against": 5, "abstentions": 0}
    assert act(client, headers, plan_id, "record-assembly", votes)["status"] == \
        "assembly_approved"


@pytest.mark.parametrize("change", [
    {"votes_for": 5, "votes_against": 1, "abstentions": 1},      # 7 cast of 6 votes
    {"held_on": (date.today() + timedelta(days=2)).isoformat()},
    {"held_on": "2023-12-31"},                                    # before the plan's year
    {"basic_votes_total": 0},
    {"votes_for": -1},
    {"quorum": 3},
])
def test_impossible_tallies_are_422_and_change_nothing(client, db, submitted, change):
    coop, headers, _, plan_id = submitted
    response = client.post(f"/api/v1/distributions/{plan_id}/record-assembly",
                           json={**ADOPTING_VOTES, **change}, headers=headers)
    assert response.status_code == 422
    assert db.session.get(DistributionPlan, plan_id).status == "submitted"


def test_notice_shorter_than_the_minimum_is_refused(app, client, submitted):
    coop, headers, _, plan_id = submitted
    act(client, headers, plan_id, "record-assembly", ADOPTING_VOTES)
    app.config["DISCLOSURE_MIN_DAYS"] = 7
    try:
        response = client.post(f"/api/v1/distributions/{plan_id}/publish",
                               json={"notice_days": 6}, headers=headers)
        assert response.status_code == 422
        act(client, headers, plan_id, "publish", {"notice_days": 7})
    finally:
        app.config["DISCLOSURE_MIN_DAYS"] = 0


def test_approval_waits_for_the_end_of_the_notice(client, db, submitted):
    coop, headers, _, plan_id = submitted
    act(client, headers, plan_id, "record-assembly", ADOPTING_VOTES)
    published = act(client, headers, plan_id, "publish", {"notice_days": 7})
    response = client.post(f"/api/v1/distributions/{plan_id}/approve", json={},
                           headers=headers)
    assert response.status_code == 409
    assert response.get_json()["code"] == "NOTICE_PERIOD_NOT_OVER"
    assert published["notice_ends_at"] > published["notice_starts_at"]
    # the notice ran its course
    plan = db.session.get(DistributionPlan, plan_id)
    plan.notice_ends_at = plan.notice_starts_at - timedelta(seconds=1)
    db.session.commit()
    assert act(client, headers, plan_id, "approve")["status"] == "approved"


def test_each_plan_gets_its_own_unguessable_token(client, make, db):
    tokens = set()
    for _ in range(2):
        coop, *_members = worked_example(make, db.session)
        _, headers = make.login("coop_manager", coop)
        approved_plan(client, headers, coop)
        tokens.add(db.session.execute(select(DistributionPlan.public_token).where(
            DistributionPlan.cooperative_id == coop.id)).scalar_one())
    assert len(tokens) == 2 and all(len(t) >= 32 for t in tokens)


def test_a_plan_is_not_approved_on_stale_figures(client, db, submitted):
    coop, headers, (collective, a, *_), plan_id = submitted
    act(client, headers, plan_id, "record-assembly", ADOPTING_VOTES)
    act(client, headers, plan_id, "publish", {"notice_days": 0})
    give_trades(db.session, coop, 2024, {a: 1})   # a trade recorded after the plan
    response = client.post(f"/api/v1/distributions/{plan_id}/approve", json={},
                           headers=headers)
    assert response.status_code == 409
    assert db.session.get(DistributionPlan, plan_id).status == "publicized"
    assert act(client, headers, plan_id, "cancel")["status"] == "cancelled"


def test_cancel_before_approval_only(client, example):
    coop, headers, _ = example
    plan = approved_plan(client, headers, coop)
    act(client, headers, plan["id"], "cancel", status=409)
    act(client, headers, plan["id"], "approve", status=409)


def test_assembly_converts_part_of_a_distribution_into_capital(client, db, submitted):
    coop, headers, (collective, a, b, c, d), plan_id = submitted
    as_of = date.today() + timedelta(days=2)   # the conversion takes effect on China's today
    before = member_totals_as_of(db.session, coop.id, as_of)
    votes = {**ADOPTING_VOTES, "conversions": [{"member_id": d.id, "amount_fen": 400_000}]}
    adopted = act(client, headers, plan_id, "record-assembly", votes)
    assert adopted["converted_fen"] == 400_000
    act(client, headers, plan_id, "publish", {"notice_days": 0})
    act(client, headers, plan_id, "approve")
    after = member_totals_as_of(db.session, coop.id, as_of)
    assert after[d.id] - before[d.id] == 400_000
    op = db.session.execute(select(ShareOperation).where(
        ShareOperation.type == "convert_surplus")).scalar_one()
    assert (op.member_id, op.amount_fen, op.distribution_id) == (d.id, 400_000, plan_id)
    line = db.session.execute(select(DistributionLine).where(
        DistributionLine.plan_id == plan_id, DistributionLine.member_id == d.id)).scalar_one()
    assert line.convert_fen == 400_000


@pytest.mark.parametrize("conversion", [
    {"amount_fen": 10**12},                 # more than the member's distribution
    {"member_id": 10**9},                   # not in the plan
    {"amount_fen": 0},
])
def test_bad_conversions_are_422(client, db, submitted, conversion):
    coop, headers, (collective, a, *_), plan_id = submitted
    votes = {**ADOPTING_VOTES,
             "conversions": [{"member_id": a.id, "amount_fen": 1_000, **conversion}]}
    response = client.post(f"/api/v1/distributions/{plan_id}/record-assembly", json=votes,
                           headers=headers)
    assert response.status_code == 422
    assert db.session.get(DistributionPlan, plan_id).status == "submitted"


def test_the_collective_keeps_a_cash_part(client, submitted):
    coop, headers, (collective, *_), plan_id = submitted
    votes = {**ADOPTING_VOTES,
             "conversions": [{"member_id": collective.id, "amount_fen": 15_230_118}]}
    response = client.post(f"/api/v1/distributions/{plan_id}/record-assembly", json=votes,
                           headers=headers)
    assert response.status_code == 422
