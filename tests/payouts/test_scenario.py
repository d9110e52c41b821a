"""The whole year over HTTP, as the cooperative's people do it: accounts, trades,
plan, assembly, notice, approval, payout, bank results, a re-issue and a reversal — and
the audit chain still verifies at the end."""
from __future__ import annotations

import io
from datetime import date
from urllib.parse import urlsplit

from sqlalchemy import select

from coop.audit import AuditEntry, verify
from tests.distribution.builders import ADOPTING_VOTES, act, give_capital

TODAY = date.today().isoformat()


def ok(response, status=200):
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_a_year_from_accounts_to_reversal(client, db, make):
    coop = make.cooperative(name="西村种植专业合作社")
    collective = make.member(coop, name="西村村民委员会", member_type="collective")
    farmers = [make.member(coop, name=n) for n in ("刘一", "陈二", "杨三", "黄四", "周五")]
    _, h = make.login("coop_manager", coop)
    base = f"/api/v1/cooperatives/{coop.id}"

    # capital in the register: collective 30,000 yuan, farmers 14,000 each
    give_capital(db.session, coop, {collective: 3_000_000,
                                    **{f: 1_400_000 for f in farmers}}, on=date(2024, 1, 10))

    ok(client.put(f"{base}/years/2024", json={
        "revenue_fen": 50_000_000, "cost_fen": 38_000_000, "prior_loss_fen": 1_000_000,
        "wages_paid_fen": 4_000_000, "labour_days": 800, "fiscal_subsidy_fen": 600_000},
        headers=h))
    ok(client.post(f"{base}/years/2024/trades", json=[
        {"member_id": farmers[0].id, "amount_fen": 2_000_000, "occurred_on": "2024-04-01"},
        {"member_id": farmers[1].id, "amount_fen": 1_500_000, "occurred_on": "2024-05-01"},
        {"member_id": farmers[2].id, "amount_fen": 500_000, "occurred_on": "2024-06-01"}],
        headers=h), 201)
    sheet = "姓名,金额(元),日期,备注\n黄四,\"7,000.00\",2024-09-01,秋粮\n周五,3000,2024-10-01,\n"
    ok(client.post(f"{base}/years/2024/trades", data={"file": (io.BytesIO(
        sheet.encode("utf-8-sig")), "秋季交易.csv")}, content_type="multipart/form-data",
        headers=h), 201)

    # surplus 12,000,000 − loss 1,000,000 = 11,000,000; reserve 8% = 880,000
    plan = ok(client.post(f"{base}/distributions", json={
        "year": 2024, "reserve_rate": "0.08", "patronage_rate": "0.70"}, headers=h), 201)
    assert (plan["surplus_fen"], plan["reserve_fen"], plan["distributable_fen"]) == (
        12_000_000, 880_000, 10_120_000)
    assert plan["patronage_pool_fen"] == 7_084_000          # 70% of 10,120,000
    lines = ok(client.get(f"/api/v1/distributions/{plan['id']}/lines?per_page=100",
                          headers=h))["items"]
    assert sum(line["total_fen"] for line in lines) == 10_120_000
    # trades 20,000 : 15,000 : 5,000 : 7,000 : 3,000 yuan, of 50,000 in all
    patronage = {line["member_id"]: line["patronage_fen"] for line in lines}
    assert patronage[farmers[0].id] == 2_833_600          # 7,084,000 × 20/50
    assert patronage[collective.id] == 0

    act(client, h, plan["id"], "submit")
    act(client, h, plan["id"], "record-assembly", {**ADOPTING_VOTES, "held_on": TODAY,
                                                   "basic_votes_total": 6,
                                                   "extra_votes_total": 1})
    notice = act(client, h, plan["id"], "publish", {"notice_days": 0})
    page = client.get(urlsplit(notice["public_url"]).path)
    assert page.status_code == 200 and "刘*" in page.get_data(as_text=True)
    act(client, h, plan["id"], "approve")
    assert client.put(f"{base}/years/2024", json={"revenue_fen": 1, "cost_fen": 0},
                      headers=h).status_code == 409

    batch = ok(client.post(f"/api/v1/distributions/{plan['id']}/payout-batch", json={},
                           headers={**h, "Idempotency-Key": "2024-distribution"}), 201)
    assert batch["total_fen"] == 10_120_000 and batch["line_count"] == 6
    bank_file = client.get(f"/api/v1/payout-batches/{batch['id']}/bank-file", headers=h)
    assert bank_file.get_data().startswith(b"\xef\xbb\xbf")

    paid_lines = ok(client.get(f"/api/v1/payout-batches/{batch['id']}/lines", headers=h))
    failed = paid_lines["items"][-1]["id"]
    ok(client.post(f"/api/v1/payout-batches/{batch['id']}/results", json=[
        {"line_id": line["id"], "status": "failed" if line["id"] == failed else "paid",
         "bank_ref": None if line["id"] == failed else f"BK{line['id']}", "paid_on": TODAY}
        for line in paid_lines["items"]], headers=h))
    follow_up = ok(client.post(f"/api/v1/payout-batches/{batch['id']}/reissue", json={},
                               headers=h), 201)
    again = ok(client.get(f"/api/v1/payout-batches/{follow_up['id']}/lines", headers=h))
    closed = ok(client.post(f"/api/v1/payout-batches/{follow_up['id']}/results", json=[
        {"line_id": again["items"][0]["id"], "status": "paid", "bank_ref": "BK-R",
         "paid_on": TODAY}], headers=h))
    assert closed["status"] == "closed"
    reversal = ok(client.post(f"/api/v1/payout-lines/{paid_lines['items'][0]['id']}/reverse",
                              json={"reason": "重复支付，已追回"}, headers=h), 201)
    assert reversal["amount_fen"] == -paid_lines["items"][0]["amount_fen"]

    result = verify(db.session)
    assert result.ok, result.reason
    actions = set(db.session.execute(select(AuditEntry.action)).scalars())
    assert {"annual_account.put", "trades.import", "distribution_plan.create",
            "distribution_plan.submit", "distribution_plan.record_assembly",
            "distribution_plan.publish", "distribution_plan.approve", "distribution_plan.pay",
            "payout_batch.create", "payout_batch.bank_file", "payout_batch.results",
            "payout_batch.reissue", "payout_line.reverse"} <= actions
