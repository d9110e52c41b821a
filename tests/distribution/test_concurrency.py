"""Races (meaningful on MariaDB: row locks under READ COMMITTED; SQLite serializes writers).

Two requests start together behind a barrier; exactly one may win, the other gets 409.
"""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from coop.distribution.models import DistributionPlan
from coop.payouts.models import PayoutBatch
from tests.distribution.builders import ADOPTING_VOTES, act, approved_plan, create_plan, \
    worked_example


def race(client, urls_and_headers) -> list[int]:
    barrier = threading.Barrier(len(urls_and_headers))
    statuses = [None] * len(urls_and_headers)

    def run(i, url, headers):
        barrier.wait()
        statuses[i] = client.post(url, json={}, headers=headers).status_code

    threads = [threading.Thread(target=run, args=(i, url, headers))
               for i, (url, headers) in enumerate(urls_and_headers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(statuses)


def test_two_approvers_at_once_one_wins(client, db, make):
    coop, *_ = worked_example(make, db.session)
    _, first = make.login("coop_manager", coop)
    _, second = make.login("coop_manager", coop)
    plan = create_plan(client, first, coop)
    act(client, first, plan["id"], "submit")
    act(client, first, plan["id"], "record-assembly", ADOPTING_VOTES)
    act(client, first, plan["id"], "publish", {"notice_days": 0})
    url = f"/api/v1/distributions/{plan['id']}/approve"
    assert race(client, [(url, first), (url, second)]) == [200, 409]
    db.session.expire_all()
    assert db.session.get(DistributionPlan, plan["id"]).status == "approved"


def test_two_payout_batches_at_once_one_wins(client, db, make):
    coop, *_ = worked_example(make, db.session)
    _, first = make.login("coop_manager", coop)
    _, second = make.login("coop_manager", coop)
    plan = approved_plan(client, first, coop)
    url = f"/api/v1/distributions/{plan['id']}/payout-batch"
    assert race(client, [(url, first), (url, second)]) == [201, 409]
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(PayoutBatch)).scalar_one() == 1
