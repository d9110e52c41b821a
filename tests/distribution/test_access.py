"""Who may do what with years, trades and plans; objects of others are 404 (BOLA)."""
from __future__ import annotations

import pytest

from tests.distribution.builders import create_plan, worked_example


@pytest.fixture
def world(client, db, make):
    coop, collective, a, *_ = worked_example(make, db.session)
    manager, headers = make.login("coop_manager", coop)
    plan = create_plan(client, headers, coop)
    return {"coop": coop, "plan": plan, "member": a, "headers": headers,
            "county_id": coop.county_id}


def reads(w):
    c, p = w["coop"].id, w["plan"]["id"]
    return [f"/api/v1/cooperatives/{c}/years/2024", f"/api/v1/cooperatives/{c}/years/2024/trades",
            f"/api/v1/cooperatives/{c}/distributions", f"/api/v1/distributions/{p}",
            f"/api/v1/distributions/{p}/lines"]


def writes(w):
    c, p = w["coop"].id, w["plan"]["id"]
    return [("put", f"/api/v1/cooperatives/{c}/years/2024",
             {"revenue_fen": 1, "cost_fen": 0}),
            ("post", f"/api/v1/cooperatives/{c}/years/2024/trades",
             [{"member_id": w["member"].id, "amount_fen": 1, "occurred_on": "2024-02-01"}]),
            ("post", f"/api/v1/cooperatives/{c}/distributions",
             {"year": 2024, "reserve_rate": "0.1"}),
            ("post", f"/api/v1/distributions/{p}/submit", {}),
            ("post", f"/api/v1/distributions/{p}/cancel", {}),
            ("post", f"/api/v1/distributions/{p}/approve", {})]


def test_without_a_token_everything_is_401(client, world):
    for url in reads(world):
        assert client.get(url).status_code == 401, url
    for method, url, body in writes(world):
        assert getattr(client, method)(url, json=body).status_code == 401, url


def test_another_cooperatives_manager_gets_404_everywhere(client, world, make):
    _, headers = make.login("coop_manager", make.cooperative())
    for url in reads(world):
        assert client.get(url, headers=headers).status_code == 404, url
    for method, url, body in writes(world):
        assert getattr(client, method)(url, json=body, headers=headers).status_code == 404, url


def test_another_countys_admin_gets_404(client, world, make):
    _, headers = make.login("county_admin", make.county())
    for url in reads(world):
        assert client.get(url, headers=headers).status_code == 404, url


@pytest.mark.parametrize("role, scope", [("county_admin", "county"),
                                         ("county_finance", "county"),
                                         ("commissioner", "coop")])
def test_readers_read_but_may_not_write(client, db, world, make, role, scope):
    from coop.places.models import County
    target = world["coop"] if scope == "coop" else db.session.get(County, world["county_id"])
    _, headers = make.login(role, target)
    for url in reads(world):
        assert client.get(url, headers=headers).status_code == 200, url
    for method, url, body in writes(world):
        assert getattr(client, method)(url, json=body, headers=headers).status_code == 403, url


def test_a_member_may_not_read_plans_through_the_api(client, world, make):
    _, headers = make.login("member", world["member"])
    for url in reads(world):
        assert client.get(url, headers=headers).status_code == 403, url


def test_ids_beyond_bigint_are_404_not_500(client, world):
    headers = world["headers"]
    assert client.get("/api/v1/distributions/99999999999999999999",
                      headers=headers).status_code == 404
    assert client.get(f"/api/v1/distributions/{2**63 - 1}", headers=headers).status_code == 404
