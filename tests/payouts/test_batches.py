"""Payout batches of distribution plans (CONTRACT §6)."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from coop import crypto
from coop.county.income import income_for_year
from coop.county.models import CollectiveIncomeItem
from coop.distribution.models import DistributionPlan
from coop.payouts.models import PayoutBatch, PayoutLine
from coop.payouts.services import Payee, create_batch
from tests.distribution.builders import approved_plan, worked_example


TODAY = date.today().isoformat()   # payments are dated between the batch and today


@pytest.fixture
def approved(client, db, make):
    coop, collective, a, b, c, d = worked_example(make, db.session)
    _, headers = make.login("coop_manager", coop)
    plan = approved_plan(client, headers, coop)
    return coop, headers, plan, (collective, a, b, c, d)


def pay(client, headers, plan_id, key=None, status=201):
    extra = {"Idempotency-Key": key} if key else {}
    response = client.post(f"/api/v1/distributions/{plan_id}/payout-batch", json={},
                           headers={**headers, **extra})
    assert response.status_code == status, response.get_json()
    return response


def lines_of(client, headers, batch_id, query=""):
    body = client.get(f"/api/v1/payout-batches/{batch_id}/lines?per_page=100{query}",
                      headers=headers).get_json()
    return body["items"]


def test_an_approved_plan_gets_one_batch_and_becomes_paid(client, db, approved):
    coop, headers, plan, _ = approved
    batch = pay(client, headers, plan["id"]).get_json()
    assert {k: batch[k] for k in ("source", "line_count", "total_fen", "status")} == {
        "source": "distribution", "line_count": 5, "total_fen": 104_400_000, "status": "open"}
    after = client.get(f"/api/v1/distributions/{plan['id']}", headers=headers).get_json()
    assert after["status"] == "paid" and after["payout_batch_id"] == batch["id"]
    assert pay(client, headers, plan["id"], status=409).get_json()["code"] == "STATE_CONFLICT"


def test_idempotency_key_replays_the_first_answer(client, approved):
    coop, headers, plan, _ = approved
    first = pay(client, headers, plan["id"], key="batch-2024")
    again = pay(client, headers, plan["id"], key="batch-2024")
    assert again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"


def test_only_an_approved_plan_is_paid(client, db, make):
    coop, *_ = worked_example(make, db.session)
    _, headers = make.login("coop_manager", coop)
    plan = client.post(f"/api/v1/cooperatives/{coop.id}/distributions",
                       json={"year": 2024, "reserve_rate": "0.10"}, headers=headers).get_json()
    pay(client, headers, plan["id"], status=409)


def test_the_collectives_line_is_flagged_and_is_not_added_to_village_income(client, db,
                                                                          approved):
    """Issue 15 changed this on purpose: the collective's dividend was recorded as village
    income (1,500,000 entered came back as 1,518,000). It is shown beside it now."""
    coop, headers, plan, (collective, *_) = approved
    batch = pay(client, headers, plan["id"]).get_json()
    line = db.session.execute(select(PayoutLine).where(
        PayoutLine.batch_id == batch["id"], PayoutLine.member_id == collective.id)).scalar_one()
    assert line.is_collective and line.amount_fen == 15_230_118
    assert db.session.execute(select(func.count()).select_from(CollectiveIncomeItem)
                              ).scalar_one() == 0
    assert income_for_year(db.session, coop.village_id, 2024) is None


def test_converted_part_is_not_paid(client, db, make):
    coop, collective, a, *_ = worked_example(make, db.session)
    _, headers = make.login("coop_manager", coop)
    conversions = [{"member_id": collective.id, "amount_fen": 230_118},
                   {"member_id": a.id, "amount_fen": 180_706}]
    plan = approved_plan(client, headers, coop, conversions=conversions)
    batch = pay(client, headers, plan["id"]).get_json()
    assert batch["total_fen"] == 104_400_000 - 230_118 - 180_706
    amounts = {line["member_id"]: line["amount_fen"]
               for line in lines_of(client, headers, batch["id"])}
    assert amounts[collective.id] == 15_000_000 and amounts[a.id] == 39_000_000


def test_a_member_without_an_account_is_held_not_an_empty_bank_file_row(client, db, make):
    """Issue 15: a member without an account got a bank-file row with an empty account
    (before this change the file had 5 rows, one of them with no account)."""
    coop, collective, a, b, c, d = worked_example(make, db.session)
    b.bank_account_enc = b.bank_account_masked = b.bank_account_hash = None
    db.session.commit()
    _, headers = make.login("coop_manager", coop)
    batch = pay(client, headers, approved_plan(client, headers, coop)["id"]).get_json()
    assert batch["held_fen"] > 0
    rows = list(csv.reader(io.StringIO(client.get(
        f"/api/v1/payout-batches/{batch['id']}/bank-file", headers=headers)
        .data.decode("utf-8-sig"))))
    assert len(rows) == 1 + 4 and all(r[1] for r in rows[1:])
    assert b.name not in [r[0] for r in rows]


def test_members_see_only_their_own_lines(client, db, make, approved):
    coop, headers, plan, (collective, a, *_) = approved
    batch = pay(client, headers, plan["id"]).get_json()
    assert len(lines_of(client, headers, batch["id"])) == 5
    _, member_headers = make.login("member", a)
    mine = lines_of(client, member_headers, batch["id"])
    assert [line["member_id"] for line in mine] == [a.id]
    assert mine[0]["bank_account_masked"].endswith("0000")
    assert "bank_account_enc" not in mine[0]
    assert client.get(f"/api/v1/payout-batches/{batch['id']}",
                      headers=member_headers).status_code == 403
    _, stranger = make.login("member", make.member(make.cooperative()))
    assert client.get(f"/api/v1/payout-batches/{batch['id']}/lines",
                      headers=stranger).status_code == 404
    assert client.get("/api/v1/payout-batches/999999/lines",
                      headers=headers).status_code == 404


def results(client, headers, batch_id, body, status=200):
    response = client.post(f"/api/v1/payout-batches/{batch_id}/results", json=body,
                           headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_results_are_all_or_nothing_and_close_the_batch(client, db, approved):
    coop, headers, plan, _ = approved
    batch = pay(client, headers, plan["id"]).get_json()
    ids = [line["id"] for line in lines_of(client, headers, batch["id"])]
    paid = {"status": "paid", "bank_ref": "ABC123", "paid_on": TODAY}
    bad = [{"line_id": ids[0], **paid}, {"line_id": ids[1], "status": "paid"},
           {"line_id": 10**9, **paid}]
    errors = results(client, headers, batch["id"], bad, status=422)["errors"]
    assert set(errors) == {"1", "2"}
    assert db.session.execute(select(func.count()).select_from(PayoutLine).where(
        PayoutLine.status != "pending")).scalar_one() == 0
    body = [{"line_id": i, **paid} for i in ids[:4]] + [
        {"line_id": ids[4], "status": "failed", "bank_ref": None, "reason": "账号不存在"}]
    answer = results(client, headers, batch["id"], body)
    assert answer["status"] == "closed" and answer["pending_fen"] == 0
    assert answer["paid_fen"] + answer["failed_fen"] == 104_400_000
    # the same answer again is harmless; a different one is refused
    results(client, headers, batch["id"], body[:1])
    changed = [{**body[0], "status": "failed"}]
    results(client, headers, batch["id"], changed, status=422)


@pytest.mark.parametrize("body", [
    {"line_id": 1}, [], [{"line_id": 1, "status": "lost"}],
    [{"line_id": 1, "status": "paid", "bank_ref": "x", "paid_on": "2999-01-01"}],
])
def test_malformed_results_are_422(client, approved, body):
    coop, headers, plan, _ = approved
    batch = pay(client, headers, plan["id"]).get_json()
    results(client, headers, batch["id"], body, status=422)


def test_bank_file_lists_pending_lines_with_full_accounts_for_the_manager_only(
        client, db, make, approved):
    coop, headers, plan, (collective, a, *_) = approved
    batch = pay(client, headers, plan["id"]).get_json()
    url = f"/api/v1/payout-batches/{batch['id']}/bank-file"
    response = client.get(url, headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["户名", "账号", "开户行", "金额(元)", "附言"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["张三丰"][1] == "6228480000000000000"        # the full number
    assert by_name["张三丰"][3] == "391807.06"
    assert by_name["东村村民委员会"][3] == "152301.18"
    assert all(row[4].startswith(f"2024-B{batch['id']}-L") for row in rows[1:])
    for role, scope in (("commissioner", coop), ("member", a)):
        _, other = make.login(role, scope)
        assert client.get(url, headers=other).status_code == 403
    paid_line = lines_of(client, headers, batch["id"])[0]["id"]
    results(client, headers, batch["id"], [{"line_id": paid_line, "status": "paid",
                                            "bank_ref": "R1", "paid_on": TODAY}])
    again = list(csv.reader(io.StringIO(client.get(url, headers=headers)
                                        .get_data().decode("utf-8-sig"))))
    assert len(again) == 1 + 4


def test_reversal_is_a_new_negative_line_and_happens_once(client, db, approved):
    coop, headers, plan, (collective, a, *_) = approved
    batch = pay(client, headers, plan["id"]).get_json()
    line = next(x for x in lines_of(client, headers, batch["id"]) if x["member_id"] == a.id)
    reverse = f"/api/v1/payout-lines/{line['id']}/reverse"
    assert client.post(reverse, json={"reason": "误付"}, headers=headers).status_code == 409
    results(client, headers, batch["id"], [{"line_id": line["id"], "status": "paid",
                                            "bank_ref": "R9", "paid_on": TODAY}])
    response = client.post(reverse, json={"reason": "误付，款项已退回"}, headers=headers)
    assert response.status_code == 201, response.get_json()
    reversal = response.get_json()
    assert reversal["amount_fen"] == -line["amount_fen"]
    assert reversal["reverses_id"] == line["id"] and reversal["status"] == "reversed"
    original = db.session.get(PayoutLine, line["id"])
    assert (original.status, original.amount_fen, original.bank_ref) == (
        "paid", line["amount_fen"], "R9")
    assert client.post(reverse, json={"reason": "again"}, headers=headers).status_code == 409
    assert client.post(f"/api/v1/payout-lines/{reversal['id']}/reverse", json={"reason": "x"},
                       headers=headers).status_code == 409
    assert client.post(reverse, json={}, headers=headers).status_code == 422


def test_failed_and_reversed_lines_are_reissued_once_with_fresh_bank_details(
        client, db, approved):
    coop, headers, plan, (collective, a, b, *_) = approved
    batch = pay(client, headers, plan["id"]).get_json()
    line_of = {x["member_id"]: x for x in lines_of(client, headers, batch["id"])}
    results(client, headers, batch["id"], [
        {"line_id": line_of[a.id]["id"], "status": "failed", "reason": "户名不符"},
        {"line_id": line_of[b.id]["id"], "status": "paid", "bank_ref": "P2",
         "paid_on": TODAY}])
    client.post(f"/api/v1/payout-lines/{line_of[b.id]['id']}/reverse",
                json={"reason": "错付他人账户"}, headers=headers)
    a.bank_account_enc = crypto.encrypt("6217000000000001234")
    a.bank_account_masked = crypto.mask_account("6217000000000001234")
    db.session.commit()
    response = client.post(f"/api/v1/payout-batches/{batch['id']}/reissue", json={},
                           headers=headers)
    assert response.status_code == 201, response.get_json()
    follow_up = response.get_json()
    assert follow_up["line_count"] == 2
    assert follow_up["total_fen"] == line_of[a.id]["amount_fen"] + line_of[b.id]["amount_fen"]
    stored = db.session.get(PayoutBatch, follow_up["id"])
    assert (stored.sequence, stored.source_id) == (1, plan["id"])
    again = {x["member_id"]: x for x in lines_of(client, headers, follow_up["id"])}
    assert again[a.id]["reissue_of_id"] == line_of[a.id]["id"]
    assert again[a.id]["bank_account_masked"].endswith("1234")
    second = client.post(f"/api/v1/payout-batches/{batch['id']}/reissue", json={},
                         headers=headers)
    assert second.status_code == 422 and second.get_json()["code"] == "NOTHING_TO_REISSUE"


def test_a_county_batch_is_settled_by_county_money_roles_only(client, db, make):
    """Issue 15: the bank file of a county batch was 403 for county_finance, and a line
    without an account could be marked paid. A held line is out of the file, refused as
    paid (422 BANK_ACCOUNT_MISSING) until PATCH gives it an account."""
    county = make.county()
    coop = make.cooperative(county=county)
    account = crypto.encrypt("6228480000000001111")
    batch = create_batch(db.session, None, county_id=county.id, cooperative_id=None,
                         source="reward", source_id=1, year=2024,
                         payees=[Payee("secretary", "李书记", 30_000, cooperative_id=coop.id),
                                 Payee("manager", "张理事", 20_000, cooperative_id=coop.id,
                                       bank_name="农业银行", bank_account_enc=account,
                                       bank_account_masked="6228****1111")])
    db.session.commit()
    held, ready = db.session.execute(select(PayoutLine).order_by(PayoutLine.id)).scalars()
    assert (held.status, ready.status) == ("held", "pending")
    _, manager = make.login("coop_manager", coop)
    _, finance = make.login("county_finance", county)
    admin = make.login("county_admin", county)[1]
    url = f"/api/v1/payout-batches/{batch.id}"
    assert client.get(url, headers=manager).status_code == 404
    assert client.get(url + "/bank-file", headers=manager).status_code == 404
    assert client.get(url + "/bank-file", headers=admin).status_code == 403
    bank_file = client.get(url + "/bank-file", headers=finance)
    assert bank_file.status_code == 200
    rows = list(csv.reader(io.StringIO(bank_file.data.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["张理事"]           # the held line is not in it
    body = [{"line_id": held.id, "status": "paid", "bank_ref": "C1", "paid_on": TODAY}]
    assert client.post(url + "/results", json=body, headers=manager).status_code == 404
    response = client.post(url + "/results", json=body, headers=finance)
    assert (response.status_code, response.get_json()["code"]) == (422, "BANK_ACCOUNT_MISSING")
    assert client.post(f"/api/v1/payout-lines/{ready.id}/reverse", json={"reason": "x"},
                       headers=manager).status_code == 403
    # the payer gives the held line an account: it is pending, in the file, payable
    fixed = client.patch(f"/api/v1/payout-lines/{held.id}", headers=finance,
                         json={"bank_name": "农商银行", "bank_account": "6210000000000002222"})
    assert fixed.status_code == 200, fixed.get_json()
    assert (fixed.get_json()["status"], fixed.get_json()["bank_account_masked"][-4:]) == (
        "pending", "2222")
    assert client.patch(f"/api/v1/payout-lines/{held.id}", headers=manager,
                        json={"bank_name": "x", "bank_account": "6210000000000002222"}
                        ).status_code == 403
    rows = list(csv.reader(io.StringIO(client.get(url + "/bank-file", headers=finance)
                                       .data.decode("utf-8-sig"))))
    assert sorted(r[1] for r in rows[1:]) == ["6210000000000002222", "6228480000000001111"]
    assert client.post(url + "/results", json=body, headers=finance).status_code == 200


def test_a_distribution_batch_is_not_settled_by_the_county(client, db, make, approved):
    coop, headers, plan, _ = approved
    batch = pay(client, headers, plan["id"]).get_json()
    county = db.session.get(DistributionPlan, plan["id"]).county_id
    from coop.places.models import County
    _, finance = make.login("county_finance", db.session.get(County, county))
    assert client.get(f"/api/v1/payout-batches/{batch['id']}", headers=finance).status_code \
        == 200
    response = client.post(f"/api/v1/payout-batches/{batch['id']}/reissue", json={},
                           headers=finance)
    assert response.status_code == 403
    _, other_manager = make.login("coop_manager", make.cooperative())
    assert client.get(f"/api/v1/payout-batches/{batch['id']}",
                      headers=other_manager).status_code == 404


def test_results_lost_to_a_concurrent_import_are_409_and_write_nothing(client, db, approved):
    """The results go in as one statement for all lines; if another import settled one of
    them after this one read it as pending, nothing of this import stays."""
    from sqlalchemy import update

    from coop.errors import Conflict
    from coop.payouts.settlement import record_results
    from coop.transaction import unit_of_work
    coop, headers, plan, _ = approved
    batch_id = pay(client, headers, plan["id"]).get_json()["id"]
    batch = db.session.get(PayoutBatch, batch_id)
    lines = db.session.execute(select(PayoutLine).where(PayoutLine.batch_id == batch_id)
                               .order_by(PayoutLine.id)).scalars().all()
    # The other import: settles the last line behind this session's back (still pending
    # in its identity map, as if read just before).
    db.session.execute(update(PayoutLine).where(PayoutLine.id == lines[-1].id)
                       .values(status="failed").execution_options(synchronize_session=False))
    paid = {"status": "paid", "bank_ref": "R1", "paid_on": date.today()}
    with pytest.raises(Conflict), unit_of_work(db.session):
        record_results(db.session, None, batch,
                       [{"line_id": line.id, **paid} for line in lines], date.today())
    assert db.session.execute(select(func.count()).select_from(PayoutLine).where(
        PayoutLine.batch_id == batch_id, PayoutLine.status == "paid")).scalar_one() == 0


def test_each_result_lands_on_its_own_line(client, db, approved):
    coop, headers, plan, _ = approved
    batch = pay(client, headers, plan["id"]).get_json()
    ids = [line["id"] for line in lines_of(client, headers, batch["id"])]
    body = [{"line_id": i, "status": "paid", "bank_ref": f"REF{n}", "paid_on": TODAY}
            for n, i in enumerate(ids[:3])] + [
        {"line_id": ids[3], "status": "failed", "bank_ref": None, "reason": "户名不符"}]
    results(client, headers, batch["id"], body)
    got = {line["id"]: line for line in lines_of(client, headers, batch["id"])}
    assert [(got[i]["status"], got[i]["bank_ref"]) for i in ids] == [
        ("paid", "REF0"), ("paid", "REF1"), ("paid", "REF2"), ("failed", None),
        ("pending", None)]
    assert got[ids[0]]["paid_on"] == TODAY and got[ids[3]]["paid_on"] is None
    assert got[ids[3]]["reason"] == "户名不符"
