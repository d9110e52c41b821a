"""The share ledger over HTTP: codes, validation, idempotency, roles and scope."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from coop import clock
from coop.places.models import County
from coop.registry.models import Cooperative

from coop.shares.models import ShareLine, ShareOperation
from tests.shares.conftest import FOUNDED

API = "/api/v1"


@pytest.fixture
def http(ledger, make):
    """The ledger plus a manager's headers and two members."""
    ledger.headers = make.headers(ledger.manager)
    ledger.a, ledger.b = ledger.member(), ledger.member()
    return ledger


def create(client, http, **body):
    body.setdefault("type", "subscribe")
    body.setdefault("member_id", http.a.id)
    body.setdefault("kind", "cash")
    body.setdefault("effective_on", FOUNDED.isoformat())
    if not {"amount_fen", "area_mu", "tickets"} & body.keys():
        body["amount_fen"] = 100_000
    headers = {**http.headers, **body.pop("extra_headers", {})}
    return client.post(f"{API}/cooperatives/{http.coop.id}/share-operations", json=body,
                       headers=headers)


def approve(client, http, op_id, **headers):
    return client.post(f"{API}/share-operations/{op_id}/approve",
                       headers={**http.headers, **headers})


def problem_code(response, status):
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    return response.get_json()["code"]


def test_land_by_area_is_submitted_then_approved_into_numbered_lines(client, http):
    response = create(client, http, kind="land", area_mu="6.50", note="六亩半承包地")
    assert response.status_code == 201
    op = response.get_json()
    assert (op["status"], op["amount_fen"], op["area_mu"], op["lines"]) == (
        "submitted", 5_200_000, "6.50", [])
    response = approve(client, http, op["id"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "approved"
    assert [(ln["line_no"], ln["member_id"], ln["delta_fen"], ln["operation_type"])
            for ln in body["lines"]] == [(1, http.a.id, 5_200_000, "subscribe")]


def test_second_approve_and_late_reject_are_409(client, http):
    op_id = create(client, http).get_json()["id"]
    assert approve(client, http, op_id).status_code == 200
    assert problem_code(approve(client, http, op_id), 409) == "STATE_CONFLICT"
    response = client.post(f"{API}/share-operations/{op_id}/reject", json={"reason": "晚了"},
                           headers=http.headers)
    assert problem_code(response, 409) == "STATE_CONFLICT"


def test_reject_records_the_reason(client, http):
    op_id = create(client, http).get_json()["id"]
    response = client.post(f"{API}/share-operations/{op_id}/reject",
                           json={"reason": "材料不全"}, headers=http.headers)
    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["reject_reason"]) == (
        "rejected", "材料不全")
    response = client.post(f"{API}/share-operations/{op_id}/reject", json={},
                           headers=http.headers)
    assert problem_code(response, 422) == "VALIDATION_FAILED"


@pytest.mark.parametrize("body, code", [
    ({"effective_on": "FUTURE"}, "EFFECTIVE_DATE_IN_FUTURE"),
    ({"type": "redeem", "amount_fen": 1}, "INSUFFICIENT_SHARES"),
    ({"type": "redeem", "kind": "fiscal_subsidy"}, "NOT_TRANSFERABLE"),
    ({"kind": "collective_asset"}, "KIND_NOT_ALLOWED"),
])
def test_business_rules_answer_422_with_their_code(client, http, body, code):
    if body.get("effective_on") == "FUTURE":
        body["effective_on"] = (clock.today() + timedelta(days=1)).isoformat()
    assert problem_code(create(client, http, **body), 422) == code


def test_transfer_to_someone_not_yet_a_member_is_422(client, http):
    http.done("subscribe", http.a, amount_fen=1_000)
    later = http.member(joined_on=FOUNDED + timedelta(days=30))
    response = create(client, http, type="transfer", to_member_id=later.id, amount_fen=10)
    assert problem_code(response, 422) == "TRANSFEREE_NOT_MEMBER"


def test_cap_is_enforced_at_approval(client, http):
    members = [http.a, http.b] + [http.member() for _ in range(3)]
    for member in members:
        http.done("subscribe", member, amount_fen=100_000)
    op_id = create(client, http, amount_fen=1).get_json()["id"]
    assert problem_code(approve(client, http, op_id), 422) == "SINGLE_MEMBER_CAP_EXCEEDED"
    assert problem_code(approve(client, http, op_id), 422) == "SINGLE_MEMBER_CAP_EXCEEDED"


@pytest.mark.parametrize("body", [
    {"surprise": 1},                                   # unknown field
    {"area_mu": 6.5, "kind": "land"},                  # a float, not a decimal string
    {"area_mu": "6.505", "kind": "land"},              # three places
    {"area_mu": "-1", "kind": "land"},
    {"area_mu": "1", "kind": "cash"},                  # area only for land
    {"tickets": 2, "kind": "cash"},                    # tickets only for labour
    {"amount_fen": 1, "tickets": 1, "kind": "labour"},  # two values
    {"amount_fen": 0},
    {"amount_fen": 10**18},
    {"amount_fen": "100"},
    {"amount_fen": 1.5},
    {"type": "transfer"},                              # no transferee
    {"to_member_id": 1},                               # transferee on a subscription
    {"type": "reverse"},                               # reversals have their own route
    {"kind": "goods"},
    {"effective_on": "2024-02-30"},
    {"member_id": 2**63},
    {"note": "长" * 256},
])
def test_bad_bodies_are_422_and_write_nothing(client, http, db, body):
    assert problem_code(create(client, http, **body), 422) == "VALIDATION_FAILED"
    assert db.session.execute(select(func.count()).select_from(ShareOperation)).scalar() == 0


def test_member_of_an_other_cooperative_in_the_body(client, http, make):
    other = make.member(make.cooperative())
    assert problem_code(create(client, http, member_id=other.id), 404) == "NOT_FOUND"
    # A manager of both cooperatives sees the member, but it is not this cooperative's.
    other_coop = make.session.get(Cooperative, other.cooperative_id)
    both = make.user("coop_manager", http.coop, roles=[("coop_manager", other_coop)])
    http.headers = make.headers(both)
    assert problem_code(create(client, http, member_id=other.id), 422) == \
        "MEMBER_NOT_IN_COOPERATIVE"


def test_idempotent_create_replays_the_first_response(client, http, db):
    key = {"Idempotency-Key": "sub-0001"}
    first = create(client, http, extra_headers=key)
    again = create(client, http, extra_headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db.session.execute(select(func.count()).select_from(ShareOperation)).scalar() == 1
    other_body = create(client, http, amount_fen=7, extra_headers=key)
    assert problem_code(other_body, 409) == "IDEMPOTENCY_KEY_REUSED"


def test_idempotent_approve_replays_instead_of_409(client, http, db):
    op_id = create(client, http).get_json()["id"]
    first = approve(client, http, op_id, **{"Idempotency-Key": "ok-1"})
    again = approve(client, http, op_id, **{"Idempotency-Key": "ok-1"})
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.get_json() == first.get_json()
    assert db.session.execute(select(func.count()).select_from(ShareLine)).scalar() == 1


def test_reverse_creates_a_submitted_correction_that_references_the_original(client, http):
    op_id = create(client, http).get_json()["id"]
    approve(client, http, op_id)
    response = client.post(f"{API}/share-operations/{op_id}/reverse",
                           json={"reason": "金额录错"}, headers=http.headers)
    assert response.status_code == 201
    rev = response.get_json()
    assert (rev["type"], rev["status"], rev["reverses_id"], rev["note"]) == (
        "reverse", "submitted", op_id, "金额录错")
    lines = approve(client, http, rev["id"]).get_json()["lines"]
    assert [(ln["line_no"], ln["delta_fen"]) for ln in lines] == [(2, -100_000)]
    again = client.post(f"{API}/share-operations/{op_id}/reverse", json={"reason": "再冲"},
                        headers=http.headers)
    assert problem_code(again, 409) == "STATE_CONFLICT"


def test_list_filters_by_status(client, http):
    approved = create(client, http).get_json()["id"]
    approve(client, http, approved)
    pending = create(client, http, amount_fen=5).get_json()["id"]
    url = f"{API}/cooperatives/{http.coop.id}/share-operations"
    body = client.get(url, query_string={"status": "submitted"}, headers=http.headers).get_json()
    assert ([op["id"] for op in body["items"]], body["total"]) == ([pending], 1)
    body = client.get(url, headers=http.headers).get_json()
    assert [op["id"] for op in body["items"]] == [pending, approved]
    assert client.get(url, query_string={"status": "odd"}, headers=http.headers) \
        .status_code == 422


def test_register_as_of_a_date_and_its_lines(client, http):
    http.done("subscribe", http.a, amount_fen=300_000, on=FOUNDED)
    http.done("transfer", http.a, to=http.b, amount_fen=100_000, on=FOUNDED + timedelta(days=10))
    url = f"{API}/cooperatives/{http.coop.id}/share-register"
    body = client.get(url, query_string={"as_of": FOUNDED.isoformat()},
                      headers=http.headers).get_json()
    assert body["as_of"] == FOUNDED.isoformat() and body["total_fen"] == 300_000
    assert [(m["member_id"], m["total_fen"], m["ratio"], m["by_kind"]["cash"])
            for m in body["members"]] == [(http.a.id, 300_000, "1.0000", 300_000)]
    body = client.get(url, headers=http.headers).get_json()
    assert [(m["member_id"], m["total_fen"], m["ratio"]) for m in body["members"]] == [
        (http.a.id, 200_000, "0.6667"), (http.b.id, 100_000, "0.3333")]
    lines = client.get(f"{url}/lines", query_string={"per_page": 2, "page": 2},
                       headers=http.headers).get_json()
    assert (lines["total"], [ln["line_no"] for ln in lines["items"]]) == (3, [3])
    assert client.get(f"{url}/lines", query_string={"per_page": 101},
                      headers=http.headers).status_code == 422
    assert client.get(url, query_string={"as_of": "yesterday"},
                      headers=http.headers).status_code == 422


def test_member_sees_own_account_and_lines_only(client, http, make):
    http.done("subscribe", http.a, "land", area_mu=Decimal("1.25"))
    http.done("subscribe", http.b, amount_fen=1_000)
    _, headers = make.login("member", http.a)
    body = client.get(f"{API}/members/{http.a.id}/account", query_string={"year": 2024},
                      headers=headers).get_json()
    assert body == {
        "member_id": http.a.id, "cooperative_id": http.coop.id, "name": http.a.name,
        "status": "active", "year": 2024, "as_of": "2024-12-31",
        "contribution_fen": 1_000_000,
        "contribution_by_kind": {"cash": 0, "land": 1_000_000, "collective_asset": 0,
                                 "fiscal_subsidy": 0, "labour": 0},
        "reserve_share_fen": 0, "transaction_volume_fen": 0, "subsidy_share_fen": 0,
        "distributions_received_fen": 0}
    lines = client.get(f"{API}/members/{http.a.id}/share-lines", headers=headers).get_json()
    assert [ln["member_id"] for ln in lines["items"]] == [http.a.id]
    for path in (f"/members/{http.b.id}/account", f"/members/{http.b.id}/share-lines"):
        assert problem_code(client.get(API + path, headers=headers), 404) == "NOT_FOUND"
    register = client.get(f"{API}/cooperatives/{http.coop.id}/share-register", headers=headers)
    assert problem_code(register, 403) == "FORBIDDEN"
    assert client.get(f"{API}/members/{http.a.id}/account", query_string={"year": 1800},
                      headers=headers).status_code == 422


def test_another_cooperatives_manager_gets_404_everywhere(client, http, make):
    op_id = create(client, http).get_json()["id"]
    _, stranger = make.login("coop_manager", make.cooperative())
    coop = http.coop.id
    for method, path, body in [
            ("post", f"/cooperatives/{coop}/share-operations",
             {"type": "subscribe", "member_id": http.a.id, "kind": "cash", "amount_fen": 1,
              "effective_on": FOUNDED.isoformat()}),
            ("get", f"/cooperatives/{coop}/share-operations", None),
            ("get", f"/share-operations/{op_id}", None),
            ("post", f"/share-operations/{op_id}/approve", None),
            ("post", f"/share-operations/{op_id}/reject", {"reason": "x"}),
            ("post", f"/share-operations/{op_id}/reverse", {"reason": "x"}),
            ("get", f"/cooperatives/{coop}/share-register", None),
            ("get", f"/cooperatives/{coop}/share-register/lines", None),
            ("get", f"/members/{http.a.id}/account", None),
            ("get", f"/members/{http.a.id}/share-lines", None)]:
        response = getattr(client, method)(API + path, json=body, headers=stranger)
        assert problem_code(response, 404) == "NOT_FOUND", path
    assert http.session.get(ShareOperation, op_id).status == "submitted"


def test_readers_may_read_but_not_write(client, http, make):
    _, commissioner = make.login("commissioner", http.coop)
    _, county = make.login("county_admin", make.session.get(County, http.coop.county_id))
    url = f"{API}/cooperatives/{http.coop.id}/share-register"
    assert client.get(url, headers=commissioner).status_code == 200
    assert client.get(url, headers=county).status_code == 200
    http.headers = commissioner
    assert problem_code(create(client, http), 403) == "FORBIDDEN"
    assert problem_code(client.get(url), 401) == "AUTH_REQUIRED"


def test_openapi_states_the_land_rounding(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    schema = spec["components"]["schemas"]["ShareOperationIn"]
    assert "half-up" in schema["properties"]["area_mu"]["description"]
