"""Hostile input on every route of the URL map and every field of the OpenAPI spec
(issue 20, issue 18 item 5). Nothing here may answer 500, truncate a number, or answer in
English:

* bodies no JSON client sends (1,000+ levels deep, a 5,000-digit number, duplicate keys,
  NaN, 1e999, not UTF-8) → 400 MALFORMED_REQUEST, on every route, before any view —
  the anonymous caller gets the same 400 as a superuser;
* text with a NUL, a control character or a bidi override → 422 naming the field;
* a wrong value in every field of every JSON operation (a float or a numeric string in
  an integer field, a number in a string field, …) → 422 naming that field, with every
  message in `detail` and `errors` in Chinese;
* a float, a full-width or an Arabic-Indic digit in every integer query parameter → 422;
* every JSON answer carries Cache-Control: no-store and X-Content-Type-Options: nosniff.

The routes and fields are read from the URL map and the served spec, so a new route or
field is covered by itself.
"""
from __future__ import annotations

import json
import re

import pytest

from tests.abuse.routes import collection_spec, fill, key_id, route_keys
from tests.abuse.world import OWN

HOSTILE_BODIES = {
    "deep array": "[" * 5000 + "]" * 5000,
    "deep object": '{"a":' * 1200 + "1" + "}" * 1200,
    "deep but parseable": "[" * 200 + "]" * 200,
    "huge integer": '{"amount_fen": ' + "9" * 5000 + "}",
    "huge float": '{"amount_fen": 1' + "0" * 400 + ".5}",
    "duplicate keys": '{"amount_fen": 1, "amount_fen": 100}',
    "NaN": '{"amount_fen": NaN}',
    "Infinity": '{"amount_fen": 1e999}',
    "not UTF-8": b'{"name": "\xff\xfe"}',
}
ASCII_ONLY = re.compile(r"^[\x00-\x7f]*$")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _messages(errors):
    if isinstance(errors, dict):
        for value in errors.values():
            yield from _messages(value)
    elif isinstance(errors, list):
        for value in errors:
            yield from _messages(value)
    elif isinstance(errors, str):
        yield errors


def _keys(errors) -> set:
    found = set()
    if isinstance(errors, dict):
        for key, value in errors.items():
            found.add(str(key))
            found |= _keys(value)
    return found


def assert_problem(response, status: int | tuple, where: str):
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (where, response.status_code,
                                              response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/problem+json", where
    body = response.get_json()
    assert CJK.search(body["detail"]), (where, body)
    english = [m for m in _messages(body.get("errors")) if ASCII_ONLY.match(m)]
    assert not english, (where, english)
    assert_json_headers(response, where)
    return body


def assert_json_headers(response, where: str):
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    if response.is_json:
        assert response.headers.get("Cache-Control") == "no-store", where


# --- malformed JSON on every route -------------------------------------------------------

@pytest.mark.parametrize("key", route_keys(), ids=key_id)
def test_hostile_json_is_400_on_every_route_before_any_view(api, world, key):
    rule, method = key
    url = fill(rule, world, OWN)
    for name, body in HOSTILE_BODIES.items():
        for caller in ("anonymous", "superuser"):
            response = api.open(url, method=method, data=body, headers={
                **world.headers[caller], "Content-Type": "application/json"})
            problem = assert_problem(response, 400, f"{name} as {caller}")
            assert problem["code"] == "MALFORMED_REQUEST", (name, problem)


@pytest.mark.parametrize("name", list(HOSTILE_BODIES))
def test_views_that_read_any_body_as_json_refuse_it_too(api, world, name):
    """The trades import and the bank results read the body whatever its Content-Type
    (an array body): the same parser, the same 400."""
    for rule in ("/api/v1/cooperatives/<int:coop_id>/years/<int:year>/trades",
                 "/api/v1/payout-batches/<int:batch_id>/results"):
        response = api.post(fill(rule, world, OWN), data=HOSTILE_BODIES[name],
                            headers={**world.headers["superuser"],
                                     "Content-Type": "text/plain"})
        assert_problem(response, 400, rule)


@pytest.mark.parametrize("text", ["张三\u202e4321", "张\u0000三", "张三\x1b[31m", "张\u200b三",
                                  "\ud800", "李\u2066四\u2069"])
def test_control_and_bidi_characters_are_refused_in_any_text(api, world, text):
    url = fill("/api/v1/cooperatives/<int:coop_id>/members", world, OWN)
    # json.dumps escapes as \uXXXX: a lone surrogate travels as JSON allows it.
    body = json.dumps({"name": text, "id_card_no": "11010519491231002X",
                       "member_type": "farmer", "joined_on": "2024-01-01"})
    response = api.post(url, data=body, headers={**world.headers["superuser"],
                                                 "Content-Type": "application/json"})
    problem = assert_problem(response, 422, repr(text))
    assert "name" in problem["errors"], problem
    # And at login, before the rate limiter counts or the user is looked up.
    response = api.post("/api/v1/auth/login", data=json.dumps(
        {"phone": "13800000005", "password": text}), content_type="application/json")
    assert_problem(response, 422, repr(text))


# --- a wrong value in every field of every JSON operation --------------------------------

def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" in schema:
        merged: dict = {"properties": {}}
        for part in schema["allOf"]:
            merged["properties"].update(_resolve(spec, part).get("properties", {}))
        return merged
    return schema


def _wrong_values(prop: dict) -> list:
    kind = prop.get("type")
    if kind == "integer":
        return [12.5, "12", "１２", True, 1e20]
    if kind == "number":
        return ["x", True]
    if kind == "boolean":
        return ["yes", 1]
    if kind == "array":
        return ["x", {"a": 1}]
    if kind == "object":
        return ["x", [1]]
    if prop.get("enum"):
        return ["no-such-choice", 3]
    if prop.get("format") == "date":
        return ["2024-13-45", 20240101]
    if prop.get("format") == "binary":
        return []
    return [12345, ["x"]]  # a string field


def json_field_cases():
    """(rule-ish path, method, field, wrong value, array body?) for every property of
    every JSON request body in the spec."""
    spec = collection_spec()
    cases = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            content = op.get("requestBody", {}).get("content", {}) if isinstance(op, dict) else {}
            if "application/json" not in content:
                continue
            schema = _resolve(spec, content["application/json"].get("schema", {}))
            many = schema.get("type") == "array"
            if many:
                schema = _resolve(spec, schema.get("items", {}))
            for field, prop in schema.get("properties", {}).items():
                if prop.get("readOnly"):
                    continue
                prop = _resolve(spec, prop)
                for value in _wrong_values(prop):
                    cases.append((path, method.upper(), field, value, many))
            cases.append((path, method.upper(), "no_such_field", 1, many))
    return cases


_RULES = {re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule): rule for rule, _ in route_keys()}


def _grouped():
    groups: dict = {}
    for path, method, field, value, many in json_field_cases():
        groups.setdefault((path, method), []).append((field, value, many))
    return groups


@pytest.mark.parametrize("operation", sorted(_grouped()), ids=lambda k: f"{k[1]} {k[0]}")
def test_a_wrong_value_in_every_field_is_a_chinese_422_naming_it(api, world, operation):
    path, method = operation
    url = fill(_RULES[path], world, OWN)
    for field, value, many in _grouped()[operation]:
        body = {field: value}
        response = api.open(url, method=method, headers=world.headers["superuser"],
                            json=[body] if many else body)
        where = f"{method} {path} {field}={value!r}"
        problem = assert_problem(response, 422, where)
        assert field in _keys(problem.get("errors")), (where, problem)


def query_cases():
    spec = collection_spec()
    cases = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            for param in op.get("parameters", []):
                if param.get("in") == "query" and param.get("schema", {}).get("type") == "integer":
                    cases.append((path, method.upper(), param["name"]))
    return cases


@pytest.mark.parametrize("case", query_cases(), ids=lambda c: f"{c[1]} {c[0]} {c[2]}")
def test_integer_query_parameters_take_ascii_digits_only(api, world, case):
    path, method, name = case
    url = fill(_RULES[path], world, OWN)
    for value in ("1.5", "１", "٦", "1e3", " 1", "true", "9" * 30):
        response = api.open(url, method=method, headers=world.headers["superuser"],
                            query_string={name: value})
        problem = assert_problem(response, 422, f"{name}={value!r}")
        assert name in _keys(problem["errors"]), (value, problem)


def test_money_is_never_truncated(api, world):
    """The issue's own example: revenue_fen 100.99 was stored as 100."""
    url = fill("/api/v1/cooperatives/<int:coop_id>/years/<int:year>", world, OWN)
    body = {"revenue_fen": 100.99, "cost_fen": 0}
    response = api.put(url, headers=world.headers["superuser"], json=body)
    problem = assert_problem(response, 422, "revenue_fen")
    assert list(problem["errors"]) == ["revenue_fen"]


# --- identifiers ---------------------------------------------------------------------------

IDENTIFIERS = {"phone": "１３９１２３４５６７８", "id_card_no": "１１０１０５１９４９１２３１００２Ｘ",
               "credit_code": "９１３７１７２２ＭＡ３Ｃ４Ｄ５Ｅ６Ｆ", "bank_account": "٦٢٢٨٤٨٠٠٠٠٠٠٠٠٠٠",
               "invite_code": "ＡＢＣＤＥ１２３４"}


def identifier_cases():
    return sorted({(path, method) for path, method, field, _, _ in json_field_cases()
                   if field in IDENTIFIERS})


@pytest.mark.parametrize("operation", identifier_cases(), ids=lambda k: f"{k[1]} {k[0]}")
def test_non_ascii_digits_in_every_identifier_are_refused(api, world, operation):
    path, method = operation
    url = fill(_RULES[path], world, OWN)
    fields = {f for p, m, f, _, _ in json_field_cases() if (p, m) == operation} & set(IDENTIFIERS)
    for field in fields:
        response = api.open(url, method=method, headers=world.headers["superuser"],
                            data=json.dumps({field: IDENTIFIERS[field]}),
                            content_type="application/json")
        problem = assert_problem(response, 422, f"{method} {path} {field}")
        assert field in _keys(problem["errors"]), (field, problem)
