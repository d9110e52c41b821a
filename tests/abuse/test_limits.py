"""Size limits: an oversized body is 413 on every write that takes one, and a page size
or number outside PageArgs is 422 on every list.

Rate limits (429 on login and WeChat bind, per phone / openid and per address) are
tested in tests/auth/test_ratelimits.py, on an app built with the limits on.
"""
from __future__ import annotations

import pytest

from coop.pagination import MAX_PAGE, MAX_PER_PAGE
from tests.abuse.routes import (collection_spec, fill, key_id, operation, own_caller,
                                policy_for, query_for, route_keys)
from tests.abuse.world import OWN, row_count


def _with_body() -> list[tuple[str, str]]:
    spec = collection_spec()
    return [(r, m) for r, m in route_keys() if m in ("POST", "PUT", "PATCH")
            and "requestBody" in operation(spec, r, m)]


def _paged() -> list[tuple[str, str]]:
    spec = collection_spec()
    return [(r, m) for r, m in route_keys() if m == "GET" and "per_page" in {
        p["name"] for p in operation(spec, r, m).get("parameters", []) if p["in"] == "query"}]


def test_the_served_spec_is_the_one_the_tests_were_built_from(app, world):
    served = app.test_client().get("/api/v1/openapi.json").get_json()
    assert served["paths"] == collection_spec()["paths"]
    assert len(_with_body()) >= 40 and len(_paged()) >= 20


@pytest.fixture(scope="module")
def oversized(app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    return b'{"name": "' + b"x" * limit + b'"}'


@pytest.mark.parametrize("key", _with_body(), ids=key_id)
def test_a_body_over_max_content_length_is_413(app, api, world, oversized, key):
    rule, method = key
    caller = own_caller(policy_for(app, key))
    content = operation(collection_spec(), rule, method)["requestBody"]["content"]
    content_type = "application/json" if "application/json" in content else next(iter(content))
    if content_type.startswith("multipart/"):
        content_type += "; boundary=abuse"
    before = row_count()
    response = api.open(fill(rule, world, OWN), method=method, data=oversized,
                        content_type=content_type, headers=world.headers[caller],
                        query_string=query_for(rule, method, world, OWN, caller))
    assert response.status_code == 413, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "PAYLOAD_TOO_LARGE"
    assert row_count() == before


@pytest.mark.parametrize("key", _paged(), ids=key_id)
def test_a_page_outside_the_bounds_is_422(app, api, world, key):
    rule, method = key
    caller = own_caller(policy_for(app, key))
    base = query_for(rule, method, world, OWN, caller)
    url = fill(rule, world, OWN)
    assert api.get(url, headers=world.headers[caller], query_string=base).status_code == 200
    problems = []
    for name, value in (("per_page", MAX_PER_PAGE + 1), ("per_page", 0), ("page", 0),
                        ("page", MAX_PAGE + 1), ("per_page", "x")):
        response = api.get(url, headers=world.headers[caller],
                           query_string={**base, name: value})
        body = response.get_json(silent=True) or {}
        if response.status_code != 422 or body.get("code") != "VALIDATION_FAILED" \
                or name not in (body.get("errors") or {}):
            problems.append(f"{name}={value}: {response.status_code} "
                            f"{response.get_data(as_text=True)[:200]}")
    assert not problems, f"{caller} GET {url}\n" + "\n".join(problems)
