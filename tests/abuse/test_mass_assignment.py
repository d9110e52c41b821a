"""No mass assignment (CONTRACT §0: unknown fields in a request body → 422).

For every write operation of the served OpenAPI spec, each probe field the operation's
body schema does not declare is sent, alone, by a caller the policy lets through on its
own objects. The answer must be 422 VALIDATION_FAILED naming the field, and nothing may be
written. Operations that declare no body are probed too: the contract's rule is about
what the client sends, not about what the schema happens to declare.
"""
from __future__ import annotations

import pytest

from tests.abuse.routes import (fill, key_id, operation, own_caller, policy_for, query_for,
                                route_keys, spec_path)
from tests.abuse.world import FOREIGN_COUNTY, OWN, row_count

WRITE_METHODS = ("POST", "PUT", "PATCH")
PROBES = {
    "status": "approved",
    "role": "county_admin",
    "cooperative_id": None,      # filled in: the foreign county's cooperative
    "county_id": None,           # filled in: the foreign county
    "id": 1,
    "amount_fen": 100,
    "is_superuser": True,
    "created_at": "2020-01-01T00:00:00+00:00",
}
# Bodies that are not JSON: nothing to assign into.
NOT_JSON = {("/api/v1/cooperatives/<int:coop_id>/members/import", "POST"),
            ("/api/v1/cooperatives/<int:coop_id>/share-register/import", "POST"),
            ("/api/v1/attachments", "POST")}


def writes() -> list[tuple[str, str]]:
    return [k for k in route_keys() if k[1] in WRITE_METHODS and k not in NOT_JSON]


@pytest.fixture(scope="module")
def spec(app, world):
    return app.test_client().get("/api/v1/openapi.json").get_json()


def resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def body_shape(spec: dict, rule: str, method: str) -> tuple[bool, set]:
    """(is an array of objects, declared property names) of the JSON request body;
    (False, set()) when the operation declares no JSON body."""
    content = operation(spec, rule, method).get("requestBody", {}).get("content", {})
    schema = resolve(spec, content.get("application/json", {}).get("schema", {}))
    if schema.get("type") == "array":
        return True, set(resolve(spec, schema.get("items", {})).get("properties", {}))
    return False, set(schema.get("properties", {}))


def error_keys(errors) -> set:
    keys = set()
    if isinstance(errors, dict):
        for key, value in errors.items():
            keys |= {str(key)} | error_keys(value)
    return keys


def test_every_write_is_probed_or_named_as_not_json(spec):
    operations = {(path, method.upper()) for path, ops in spec["paths"].items()
                  for method in ops if method.upper() in WRITE_METHODS}
    probed = {(spec_path(rule), method) for rule, method in writes()}
    assert probed | {(spec_path(r), m) for r, m in NOT_JSON} == operations
    for rule, method in NOT_JSON:
        assert "application/json" not in operation(spec, rule, method)["requestBody"]["content"]


@pytest.mark.parametrize("key", writes(), ids=key_id)
def test_unknown_fields_are_refused_and_nothing_is_written(app, api, world, spec, key):
    rule, method = key
    policy = policy_for(app, key)
    caller = own_caller(policy)
    is_array, declared = body_shape(spec, rule, method)
    foreign = world.ids[FOREIGN_COUNTY]
    values = {**PROBES, "cooperative_id": foreign["coop"], "county_id": foreign["county"]}
    url = fill(rule, world, OWN)
    before = row_count()
    problems = []
    for field in sorted(set(values) - declared):
        body = {field: values[field]}
        response = api.open(url, method=method, json=[body] if is_array else body,
                            headers=world.headers[caller],
                            query_string=query_for(rule, method, world, OWN, caller))
        answer = response.get_json(silent=True) or {}
        if response.status_code != 422 or answer.get("code") != "VALIDATION_FAILED" \
                or response.mimetype != "application/problem+json" \
                or field not in error_keys(answer.get("errors")):
            problems.append(f"{field}: {response.status_code} "
                            f"{response.get_data(as_text=True)[:300]}")
    assert not problems, f"{caller} {method} {url}:\n" + "\n".join(problems)
    assert row_count() == before, "a refused body still wrote rows"
