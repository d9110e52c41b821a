"""The URL map as the abuse tests see it: every /api/v1 route × method with its policy,
how to fill its path for a scope, and what each caller should get.

Routes come from the same walk as tests/auth/test_route_policy.py. A path parameter must
be in PARAM_OBJECT (a test fails otherwise), so a new route with a new kind of object
cannot slip past the matrix.
"""
from __future__ import annotations

import re
from functools import lru_cache

from auth.models import SCOPE_OF_ROLE
from auth.policy import ANY_USER, PUBLIC, policy_of
from tests.abuse.world import DEPARTMENT, FOREIGN_COOP, OWN, YEAR, World
from tests.auth.test_route_policy import api_views

PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
WRITES = ("POST", "PUT", "PATCH", "DELETE")
OK = "ok"

# Path parameter → the world's object of that kind in a scope (or a plain value).
PARAM_OBJECT = {
    "county_id": lambda w, s: w.id(s, "county"),
    "town_id": lambda w, s: w.id(s, "town"),
    "village_id": lambda w, s: w.id(s, "village"),
    "zone_id": lambda w, s: w.id(s, "zone"),
    "coop_id": lambda w, s: w.id(s, "coop"),
    "member_id": lambda w, s: w.id(s, "member"),
    "op_id": lambda w, s: w.id(s, "op"),
    "officer_id": lambda w, s: w.id(s, "officer"),
    "manager_id": lambda w, s: w.id(s, "manager"),
    "plan_id": lambda w, s: w.id(s, "plan"),
    "token": lambda w, s: w.id(s, "token"),
    "batch_id": lambda w, s: w.id(s, "batch"),
    "line_id": lambda w, s: w.id(s, "line"),
    "program_id": lambda w, s: w.id(s, "program"),
    "application_id": lambda w, s: w.id(s, "application"),
    "reward_round_id": lambda w, s: w.id(s, "reward_round"),
    "user_id": lambda w, s: w.id(s, "user"),
    "role_id": lambda w, s: w.id(s, "role"),
    # A notification of the scope: OWN's is the coop_manager caller's (world.py).
    "notification_id": lambda w, s: w.id(s, "notification"),
    "attachment_id": lambda w, s: w.id(s, "attachment"),
    "secretary_id": lambda w, s: w.id(s, "secretary"),
    # Not objects: the same value in every scope.
    "year": lambda w, s: YEAR,
    "department": lambda w, s: DEPARTMENT,
}
PLAIN_PARAMS = {"year", "department"}

# Routes that name their object in the query string instead of the path.
QUERY_OBJECT = {
    ("/api/v1/reports/payouts", "GET"): lambda w, s, caller: (
        {"scope": "cooperative", "id": w.id(s, "coop"), "year": YEAR}
        if caller in ("coop_manager", "commissioner")
        else {"scope": "city", "id": w.id(s, "city"), "year": YEAR}
        if caller == "city_viewer"
        else {"scope": "county", "id": w.id(s, "county"), "year": YEAR}),
    # A member's attachments: every reading role reads that member (a member, their own).
    ("/api/v1/attachments", "GET"): lambda w, s, caller: {
        "object_type": "member", "object_id": w.id(s, "member")},
    ("/api/v1/reports/dashboard", "GET"): lambda w, s, caller: (
        {"city_id": w.id(s, "city"), "year": YEAR} if caller == "city_viewer"
        else {"county_id": w.id(s, "county"), "year": YEAR}),
    # The audit trail of a share operation (written when the world submitted it). Not a
    # user's: the matrix's DELETE routes may have left that user with no role in scope.
    ("/api/v1/audit", "GET"): lambda w, s, caller: {
        "object_type": "share_operation", "object_id": w.id(s, "op")},
}

# Writes whose scope check sits in the service, after body validation: a body that
# passes validation, so a foreign object is answered by the scope check (404), not by
# the schema (422).
# The role is one the target already holds (409 ROLE_EXISTS), so nothing is granted.
BODIES = {
    ("/api/v1/users/<int:user_id>/roles", "POST"): lambda w, s: {
        "role": "commissioner", "scope_type": "cooperative", "scope_id": w.id(s, "coop")},
}

def params_of(rule: str) -> list[str]:
    return PARAM.findall(rule)


def names_an_object(rule: str, method: str) -> bool:
    return (rule, method) in QUERY_OBJECT or any(
        p not in PLAIN_PARAMS for p in params_of(rule))


def fill(rule: str, world: World, scope: str) -> str:
    return PARAM.sub(lambda m: str(PARAM_OBJECT[m.group(1)](world, scope)), rule)


def routes(app) -> list[tuple[str, str, object]]:
    """(rule, method, policy) of every /api/v1 route and method."""
    return [(rule, method, policy_of(func)) for rule, method, func in api_views(app)]


def policy_for(app, key: tuple[str, str]):
    return {(rule, method): policy for rule, method, policy in routes(app)}[key]


def key_id(key: tuple[str, str]) -> str:
    """A readable test id: "GET /cooperatives/<int:coop_id>"."""
    rule, method = key
    return f"{method} {rule.removeprefix('/api/v1')}"


@lru_cache(maxsize=1)
def _collection_app():
    """The session app does not exist while tests are collected: a throwaway app on an
    in-memory database that is never connected gives the routes and the spec."""
    from coop import create_app
    from tests.conftest import TEST_CONFIG
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


@lru_cache(maxsize=1)
def route_keys() -> tuple[tuple[str, str], ...]:
    """(rule, method) of every /api/v1 route, at collection time."""
    return tuple((rule, method) for rule, method, _ in routes(_collection_app()))


@lru_cache(maxsize=1)
def collection_spec() -> dict:
    """The OpenAPI spec at collection time (tests compare it with the served one)."""
    return _collection_app().test_client().get("/api/v1/openapi.json").get_json()


def operation(spec: dict, rule: str, method: str) -> dict:
    """The spec's operation of a route ({} for the plain-Flask pages, e.g. the public
    disclosure notice, which the spec does not list)."""
    return spec["paths"].get(spec_path(rule), {}).get(method.lower(), {})


def sees(caller: str, scope: str) -> bool:
    """Whether a role held on OWN covers an object of `scope`."""
    return scope == OWN or (scope == FOREIGN_COOP
                            and SCOPE_OF_ROLE[caller] in ("county", "city"))


def expected(policy, caller: str, scope: str, has_object: bool):
    """What the policy promises: 401, 403, 404, OK (past the access layer) or PUBLIC."""
    if policy.roles == PUBLIC:
        return PUBLIC
    if caller == "anonymous":
        return 401
    if caller == "superuser":
        return OK
    if policy.roles != ANY_USER and caller not in policy.roles:
        return 403
    if has_object and not sees(caller, scope):
        return 404
    return OK


def allowed_statuses(method: str) -> set[int]:
    """Past the access layer: a read answers 200; a write with an empty or minimal body
    may also be refused by its schema (422), its state (409) or as malformed (400)."""
    if method == "GET":
        return {200}
    return {200, 201, 202, 204, 400, 409, 422}


def own_caller(policy) -> str:
    """A caller the policy lets through on OWN objects (the first role it names)."""
    if policy.roles == PUBLIC:
        return "anonymous"
    if policy.roles == ANY_USER:
        return "county_admin"
    return policy.roles[0]


def spec_path(rule: str) -> str:
    """The OpenAPI path of a Flask rule: <int:coop_id> → {coop_id}."""
    return PARAM.sub(lambda m: "{" + m.group(1) + "}", rule)


def query_for(rule: str, method: str, world: World, scope: str, caller: str) -> dict:
    query = QUERY_OBJECT.get((rule, method))
    return query(world, scope, caller) if query else {}
