"""Self-service for a member: /me/shares, /me/payouts, /me/account show only their own."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from coop.registry.models import Cooperative
from coop.shares import services
from tests.reports.builders import pay, settle

YEAR = 2024


def _approved(session, manager, member, kind, on, **value):
    """A subscription approved through the share ledger (it writes the register lines)."""
    coop = session.get(Cooperative, member.cooperative_id)
    op = services.submit_operation(session, manager, coop, type="subscribe",
                                   member_id=member.id, kind=kind, effective_on=on, **value)
    services.approve_operation(session, manager, op)


class Members:
    def __init__(self, db, make):
        s = db.session
        self.coop = make.cooperative()
        self.other_coop = make.cooperative(county=None)
        self.me = make.member(self.coop, name="王建国")
        self.neighbour = make.member(self.coop, name="李秀英")
        self.me_elsewhere = make.member(self.other_coop, name="王建国")
        manager = make.user("coop_manager", self.coop)
        other_manager = make.user("coop_manager", self.other_coop)
        _approved(s, manager, self.me, "cash", date(2023, 3, 1), amount_fen=300_000)
        _approved(s, manager, self.me, "land", date(2024, 4, 1), area_mu=Decimal("1"))
        _approved(s, manager, self.neighbour, "cash", date(2023, 3, 1), amount_fen=900_000)
        _approved(s, other_manager, self.me_elsewhere, "labour", date(2024, 1, 5), tickets=1)
        batch = pay(s, self.coop.county_id, self.coop, "distribution", 1, YEAR,
                    [(self.me, 12_345), (self.neighbour, 99_999)])
        settle(s, batch, ["paid", "paid"])
        pay(s, self.coop.county_id, self.coop, "distribution", 2, YEAR - 1,
            [(self.me, 1_000)])
        pay(s, self.other_coop.county_id, self.other_coop, "subsidy", 3, YEAR,
            [(self.me_elsewhere, 7_000)])
        self.user = make.user("member", self.me)
        self.headers = make.headers(self.user)


@pytest.fixture
def members(db, make):
    return Members(db, make)


def test_my_shares_lists_my_holding_by_kind_ratio_and_lines(client, members):
    resp = client.get("/api/v1/me/shares", headers=members.headers,
                      query_string={"as_of": "2024-12-31"})
    assert resp.status_code == 200, resp.json
    (item,) = resp.json["items"]
    assert item["member_id"] == members.me.id
    assert item["by_kind"]["cash"] == 300_000 and item["by_kind"]["land"] == 800_000
    assert item["total_fen"] == 1_100_000
    assert item["ratio"] == "0.5500"    # 300,000 cash + 1 mu × 800,000 of 2,000,000
    assert [(l["kind"], l["delta_fen"]) for l in item["lines"]] == [("cash", 300_000),
                                                                 ("land", 800_000)]


def test_my_shares_as_of_an_earlier_date_leaves_later_lines_out_of_the_holding(client,
                                                                                members):
    item = client.get("/api/v1/me/shares", headers=members.headers,
                      query_string={"as_of": "2023-12-31"}).json["items"][0]
    assert item["total_fen"] == 300_000 and item["ratio"] == "0.2500"


def test_my_payouts_are_mine_only_and_paged(client, members):
    resp = client.get("/api/v1/me/payouts", headers=members.headers,
                      query_string={"per_page": 1})
    assert resp.status_code == 200
    assert resp.json["total"] == 2 and len(resp.json["items"]) == 1
    newest = resp.json["items"][0]
    assert (newest["year"], newest["amount_fen"], newest["status"]) == (YEAR, 12_345, "paid")
    assert newest["bank_ref"] and newest["bank_account_masked"].startswith("*")
    this_year = client.get("/api/v1/me/payouts", headers=members.headers,
                           query_string={"year": YEAR - 1}).json
    assert [i["amount_fen"] for i in this_year["items"]] == [1_000]
    assert client.get("/api/v1/me/payouts", headers=members.headers,
                      query_string={"per_page": 101}).status_code == 422


def test_my_account_reuses_the_member_account(client, members):
    resp = client.get("/api/v1/me/account", headers=members.headers,
                      query_string={"year": YEAR})
    assert resp.status_code == 200, resp.json
    (item,) = resp.json["items"]
    assert item["member_id"] == members.me.id
    assert item["contribution_fen"] == 1_100_000
    assert item["contribution_by_kind"]["land"] == 800_000
    assert item["cooperative_name"] == members.coop.name
    for field in ("reserve_share_fen", "transaction_volume_fen", "subsidy_share_fen",
                  "distributions_received_fen"):
        assert isinstance(item[field], int)


def test_a_member_of_two_cooperatives_sees_both(client, make, members):
    user = make.user("member", members.me, roles=[("member", members.me_elsewhere)])
    headers = make.headers(user)
    shares = client.get("/api/v1/me/shares", headers=headers).json["items"]
    assert [i["member_id"] for i in shares] == sorted([members.me.id, members.me_elsewhere.id])
    payouts = client.get("/api/v1/me/payouts", headers=headers).json
    assert payouts["total"] == 3
    accounts = client.get("/api/v1/me/account", headers=headers).json["items"]
    assert len(accounts) == 2


def test_only_members_may_use_self_service(client, make, members):
    _, admin = make.login("county_admin", make.county())
    for path in ("/api/v1/me/shares", "/api/v1/me/payouts", "/api/v1/me/account"):
        resp = client.get(path, headers=admin)
        assert resp.status_code == 403, path
        assert resp.json["code"] == "FORBIDDEN"
        assert client.get(path).status_code == 401


def test_self_service_rejects_bad_query_values(client, members):
    assert client.get("/api/v1/me/account", headers=members.headers,
                      query_string={"year": "1800"}).status_code == 422
    assert client.get("/api/v1/me/shares", headers=members.headers,
                      query_string={"as_of": "2024-13-01"}).status_code == 422
