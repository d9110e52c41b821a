"""Issue 20 item 8: concurrent re-issues of one batch. On MariaDB 2 of 20 answered 500
(a duplicate key on reissue_of_id) and the logged error carried the payees' names and
encrypted account numbers. Now: exactly one follow-up batch, the others 409 or 422
NOTHING_TO_REISSUE, and no SQL parameter ever reaches the log."""
from __future__ import annotations

import logging

from sqlalchemy import func, select

import coop.clock as clock
from coop import crypto
from coop.payouts import settlement
from coop.payouts.models import PayoutBatch, PayoutLine
from coop.payouts.services import Payee, create_batch
from coop.transaction import unit_of_work
from tests.county.test_budget_concurrency import race


def test_twenty_racing_reissues_make_one_follow_up_and_log_no_parameters(app, world, db,
                                                                          caplog):
    session = db.session
    account = crypto.encrypt("6228480000000004242")
    batch = create_batch(session, None, county_id=world.county.id, cooperative_id=None,
                         source="reward", source_id=999, year=2024, payees=[
                             Payee("manager", f"冲突收款人{i}", 10_000 + i, bank_name="农业银行",
                                   bank_account_enc=account, bank_account_masked="6228****4242")
                             for i in range(3)])
    session.commit()
    ids = session.execute(select(PayoutLine.id).where(
        PayoutLine.batch_id == batch.id)).scalars().all()
    with unit_of_work(session):
        settlement.record_results(session, world.finance1[0], batch, [
            {"line_id": i, "status": "failed", "bank_ref": f"F{i}", "paid_on": None}
            for i in ids], clock.today())
    caplog.set_level(logging.DEBUG)
    headers = [world.finance1[1], world.finance2[1]]
    results = race(app, [(f"/api/v1/payout-batches/{batch.id}/reissue", headers[i % 2], {})
                         for i in range(20)])
    statuses = sorted(status for status, _ in results)
    assert statuses.count(201) == 1, results
    assert set(statuses) <= {201, 409, 422}, results
    assert all(body["code"] in ("STATE_CONFLICT", "NOTHING_TO_REISSUE")
               for status, body in results if status != 201)
    session.expire_all()
    follow_ups = session.execute(select(func.count()).select_from(PayoutBatch).where(
        PayoutBatch.source == "reward", PayoutBatch.source_id == 999,
        PayoutBatch.sequence > 0)).scalar_one()
    assert follow_ups == 1
    logged = caplog.text
    assert "冲突收款人" not in logged and account not in logged
