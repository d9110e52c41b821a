"""The demo walks every road: right after `flask seed demo`, each journey the README's demo
section lists can be done at once, with the demo's own logins (README.md, "Demo")."""
from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest

import coop.clock as clock
from coop.seed import DEMO_PASSWORD

PDF = b"%PDF-1.4\n% assembly minutes\n%%EOF\n"


@pytest.fixture
def demo(runner, db):
    result = runner.invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def login(client):
    def login(phone: str) -> dict:
        resp = client.post("/api/v1/auth/login", json={"phone": phone, "password": DEMO_PASSWORD})
        assert resp.status_code == 200, resp.json
        return {"Authorization": f"Bearer {resp.json['access_token']}"}
    return login


def _ok(resp, status=200):
    assert resp.status_code == status, resp.get_data(as_text=True)[:600]
    return resp.json


def test_every_demo_journey(client, demo, login):
    last_year = clock.today().year - 1
    admin, finance_a, finance_b = (login("13800000001"), login("13800000002"),
                                   login("13800000006"))
    reviewers = [login(p) for p in ("13800000003", "13800000004", "13800000005")]
    manager_1, manager_2 = login("13800000011"), login("13800000012")
    county = _ok(client.get("/api/v1/me", headers=admin))["roles"][0]["scope_id"]
    coops = _ok(client.get("/api/v1/cooperatives", headers=admin))["items"]
    first, second = sorted(coops, key=lambda c: c["id"])

    # 1. Capital is on the register; a member's certificate and the roster print.
    register = _ok(client.get(f"/api/v1/cooperatives/{first['id']}/share-register",
                              headers=manager_1))
    assert register["total_fen"] > 0 and len(register["members"]) == 13
    member_id = register["members"][1]["member_id"]
    assert client.get(f"/api/v1/members/{member_id}/certificate",
                      headers=manager_1).status_code == 200
    assert client.get(f"/api/v1/cooperatives/{first['id']}/member-roster?format=pdf",
                      headers=manager_1).status_code == 200

    # 2. Last year's plan is past its notice: the manager approves it and pays it out.
    plans = _ok(client.get(f"/api/v1/cooperatives/{first['id']}/distributions",
                           headers=manager_1))["items"]
    plan = next(p for p in plans if p["year"] == last_year)
    assert plan["status"] == "publicized"
    notice = client.get(urlsplit(plan["public_url"]).path)
    assert notice.status_code == 200 and "001" in notice.get_data(as_text=True)
    attached = client.post("/api/v1/attachments", headers=manager_1,
                           content_type="multipart/form-data",
                           data={"file": (io.BytesIO(PDF), "成员大会会议记录.pdf"),
                                 "object_type": "distribution", "object_id": str(plan["id"]),
                                 "kind": "assembly_minutes"})
    _ok(attached, 201)
    assert _ok(client.post(f"/api/v1/distributions/{plan['id']}/approve",
                           headers=manager_1))["status"] == "approved"
    batch = _ok(client.post(f"/api/v1/distributions/{plan['id']}/payout-batch",
                            headers=manager_1), 201)
    assert batch["total_fen"] > 0

    # 3. The second cooperative computes its own plan for last year (by shares).
    drafted = _ok(client.post(f"/api/v1/cooperatives/{second['id']}/distributions",
                              headers=manager_2,
                              json={"year": last_year, "reserve_rate": "0.10"}), 201)
    assert drafted["status"] == "draft" and drafted["share_pool_fen"] > 0

    # 4. Four eyes: one finance user approves the application, the other disburses it.
    application = _ok(client.get("/api/v1/subsidy-applications", headers=finance_a))["items"][0]
    _ok(client.post(f"/api/v1/subsidy-applications/{application['id']}/approve",
                    headers=finance_a, json={}))
    refused = client.post(f"/api/v1/subsidy-applications/{application['id']}/disburse",
                          headers=finance_a, json={"paid_on": clock.today().isoformat(),
                                                   "bank_ref": "DEMO-0001"})
    assert refused.status_code in (403, 422)
    paid = _ok(client.post(f"/api/v1/subsidy-applications/{application['id']}/disburse",
                           headers=finance_b, json={"paid_on": clock.today().isoformat(),
                                                    "bank_ref": "DEMO-0001"}))
    assert paid["status"] == "disbursed"

    # 5. Three reviewers score the first cooperative for last year.
    for headers, department in zip(reviewers, ("organization", "finance", "agriculture")):
        _ok(client.put(f"/api/v1/cooperatives/{first['id']}/evaluations/{last_year}/scores/"
                       f"{department}", headers=headers, json={"score": 92, "opinion": "规范"}))

    # 6. Collective income this year and the year before, and the dashboard.
    income = _ok(client.get(f"/api/v1/villages/{first['village_id']}/collective-income",
                            headers=admin))
    years = {row["year"] for row in (income if isinstance(income, list) else income["items"])}
    assert {last_year, last_year + 1} <= years
    _ok(client.get("/api/v1/reports/dashboard", headers=admin,
                   query_string={"county_id": county, "year": last_year}))

    # 7. Programs open this year; the village secretaries have bank accounts.
    programs = _ok(client.get(f"/api/v1/counties/{county}/programs", headers=admin,
                              query_string={"open": "true"}))["items"]
    assert programs
    secretaries = _ok(client.get(f"/api/v1/villages/{first['village_id']}/secretaries",
                                 headers=admin))["items"]
    assert secretaries[0]["bank_account"]
