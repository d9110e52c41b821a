"""The abuse matrix: every /api/v1 route × every caller × {own, foreign cooperative,
foreign county} answers what its policy promises, and never shows foreign data.

The expected answer is derived from the route's policy (auth/policy.py), not written per
route: anonymous → 401; a role the policy does not name → 403; an object outside the
caller's scope → 404; inside → past the access layer (2xx, or 400/409/422 for a write
with an empty body). A county role's scope holds the foreign cooperative (same county);
a cooperative role's and a member's do not. Every body a role receives is searched for
the markers of objects outside its scope, and id fields naming a county, cooperative or
member must be the caller's own.

The routes are read from the URL map, so a new route is in the matrix by itself; a new
kind of path parameter fails `test_every_path_parameter_has_an_object` until it is
given an object per scope.
"""
from __future__ import annotations

import io
import json
import zipfile

import pytest

from auth.policy import PUBLIC
from tests.abuse.routes import (BODIES, OK, PARAM_OBJECT, PLAIN_PARAMS,
                                QUERY_OBJECT, allowed_statuses, collection_spec, expected,
                                fill, key_id, names_an_object, operation, params_of,
                                policy_for, query_for, route_keys, routes)
from tests.abuse.world import FOREIGN_COOP, FOREIGN_COUNTY, OWN, ROLES

CALLERS = ("anonymous",) + ROLES + ("superuser",)

# Deliberate departures from the derived answer where it says "past the access layer":
# (rule, method, caller) → (statuses, why). 401/403/404 of the derivation always hold.
_ME_ONLY = "member self-service answers for the caller's member records; a superuser has none"
_COOP_BATCH = ("a distribution batch is settled by its cooperative's coop_manager; the "
               "county payers settle county-wide (reward, subsidy) batches only")
_RECIPIENT_ONLY = ("a notification is its recipient's alone (OWN's is the coop_manager "
                   "caller's): anybody else, a superuser too, gets 404")
EXCEPTIONS = {
    **{("/api/v1/me/notifications/<int:notification_id>/read", "POST", caller):
       ({404}, _RECIPIENT_ONLY) for caller in ROLES + ("superuser",)
       if caller != "coop_manager"},
    ("/api/v1/me/shares", "GET", "superuser"): ({403}, _ME_ONLY),
    ("/api/v1/me/payouts", "GET", "superuser"): ({403}, _ME_ONLY),
    ("/api/v1/me/account", "GET", "superuser"): ({403}, _ME_ONLY),
    **{(f"/api/v1/payout-batches/<int:batch_id>/{action}", "POST", role): ({403}, _COOP_BATCH)
       for action in ("results", "reissue") for role in ("county_admin", "county_finance")},
    ("/api/v1/payout-batches/<int:batch_id>/bank-file", "GET", "county_finance"):
        ({403}, _COOP_BATCH),
}


# What a county publishes to its cooperatives' managers (CONTRACT §10): the cooperative of
# the FOREIGN_COOP scope lies in OWN's county, so its county is the caller's county too.
COUNTY_READ_BY_COOP = {("/api/v1/counties/<int:county_id>/programs", "GET"),
                       ("/api/v1/counties/<int:county_id>/reward-rules/<int:year>", "GET")}


def send(api, world, rule, method, caller, scope):
    url = fill(rule, world, scope)
    kwargs = {"headers": world.headers[caller],
              "query_string": query_for(rule, method, world, scope, caller)}
    if method in ("POST", "PUT", "PATCH"):
        body = BODIES.get((rule, method))
        kwargs["json"] = body(world, scope) if body else {}
    return url, api.open(url, method=method, **kwargs)


def foreign_ids(body, allowed: dict, path: str = "") -> list[str]:
    """Fields named county_id / cooperative_id / member_id whose value is not allowed."""
    found = []
    if isinstance(body, dict):
        for key, value in body.items():
            where = f"{path}.{key}"
            if key in allowed and value is not None and value not in allowed[key]:
                found.append(f"{where}={value}")
            found += foreign_ids(value, allowed, where)
    elif isinstance(body, list):
        for n, item in enumerate(body):
            found += foreign_ids(item, allowed, f"{path}[{n}]")
    return found


def body_text(response) -> str:
    """The body as text to look for markers in: an .xlsx's sheets and strings unzipped;
    other binary files (a PDF's subset-font text is not readable here) as UTF-8, lossily."""
    data = response.get_data()
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            return "".join(book.read(name).decode("utf-8", "replace")
                           for name in book.namelist() if name.endswith(".xml"))
    return data.decode("utf-8", "replace")


def leaks(world, caller: str, response) -> list[str]:
    text = body_text(response)
    found = [f"marker {m!r} in body" for m in world.forbidden_markers(caller) if m in text]
    if caller not in ("anonymous", "superuser") and response.status_code < 300 \
            and response.is_json and response.data:
        found += [f"foreign id {f}" for f in foreign_ids(response.get_json(),
                                                         world.allowed_scope_ids(caller))]
    return found


def check(policy, rule, method, caller, scope, status, has_object) -> str | None:
    """None if `status` is what the policy promises, else why not."""
    exception = EXCEPTIONS.get((rule, method, caller))
    want = expected(policy, caller, scope, has_object)
    if (rule, method) in COUNTY_READ_BY_COOP and caller == "coop_manager" \
            and scope == FOREIGN_COOP:
        want = OK
    if status >= 500:
        return f"server error {status}"
    if exception and want == OK:
        return None if status in exception[0] else f"{status}, excepted {exception[0]}"
    if want == PUBLIC:
        return None if status not in (401, 403) else f"{status} on a public route"
    if want == OK:
        ok = allowed_statuses(method)
        return None if status in ok else f"{status}, expected one of {sorted(ok)}"
    return None if status == want else f"{status}, expected {want}"


def test_every_path_parameter_has_an_object(app):
    unknown = {(p, rule) for rule, _, _ in routes(app) for p in params_of(rule)
               if p not in PARAM_OBJECT}
    assert not unknown, ("path parameters without an object per scope in "
                         f"tests/abuse/routes.PARAM_OBJECT: {sorted(unknown)}")


def test_the_matrix_covers_every_route(app):
    served = {(rule, method) for rule, method, _ in routes(app)}
    assert set(route_keys()) == served
    assert len(served) >= 100
    stale = {k[:2] for k in EXCEPTIONS} | set(QUERY_OBJECT) | set(BODIES)
    assert stale <= served, f"entries for routes that no longer exist: {stale - served}"


@pytest.mark.parametrize("key", route_keys(), ids=key_id)
def test_route_answers_by_its_policy(app, api, world, key):
    rule, method = key
    policy = policy_for(app, key)
    has_object = names_an_object(rule, method)
    scopes = (FOREIGN_COUNTY, FOREIGN_COOP, OWN) if has_object else (OWN,)
    problems = []
    for scope in scopes:
        deleted = False         # a DELETE that succeeded leaves nothing for the next caller
        for caller in CALLERS:
            url, response = send(api, world, rule, method, caller, scope)
            status = response.status_code
            if deleted and status == 404 and expected(policy, caller, scope, has_object) == OK:
                status = 204
            deleted = deleted or (method == "DELETE" and status == 204)
            what = check(policy, rule, method, caller, scope, status, has_object)
            if policy.roles != PUBLIC:
                found = leaks(world, caller, response)
                what = "; ".join(filter(None, [what, *found])) or None
            if what:
                body = body_text(response)[:300]
                problems.append(f"{caller} on {scope} {method} {url}: {what}\n    {body}")
    assert not problems, "\n".join(problems)


def _filtered_lists() -> list[tuple[str, str, str]]:
    """(rule, method, query parameter) of list routes filtering by an object's id."""
    spec = collection_spec()
    return [(r, m, p["name"]) for r, m in route_keys() if m == "GET"
            for p in operation(spec, r, m).get("parameters", [])
            if p["in"] == "query" and p["name"] in PARAM_OBJECT
            and p["name"] not in PLAIN_PARAMS]


@pytest.mark.parametrize("rule,method,name", _filtered_lists(),
                         ids=lambda v: v.removeprefix("/api/v1") if isinstance(v, str) else v)
def test_a_filter_naming_a_foreign_object_does_not_widen_a_list(app, api, world, rule,
                                                                 method, name):
    """`?county_id=<another county>` and the like narrow the caller's scope; they never
    replace it."""
    policy = policy_for(app, (rule, method))
    problems = []
    for scope in (FOREIGN_COUNTY, FOREIGN_COOP):
        value = PARAM_OBJECT[name](world, scope)
        for caller in ROLES:
            if expected(policy, caller, OWN, names_an_object(rule, method)) != OK:
                continue
            url = fill(rule, world, OWN)
            response = api.get(url, headers=world.headers[caller], query_string={
                **query_for(rule, method, world, OWN, caller), name: value})
            found = leaks(world, caller, response)
            if response.status_code >= 500 or found:
                problems.append(f"{caller} GET {url}?{name}={value}: "
                                f"{response.status_code} {found}")
    assert not problems, "\n".join(problems)


def test_a_member_cannot_read_a_fellow_members_records(api, world):
    """Inside one cooperative the member role still covers only its own member record."""
    neighbour = world.id(OWN, "neighbour")
    for path in ("", "/share-lines", "/account"):
        response = api.get(f"/api/v1/members/{neighbour}{path}",
                           headers=world.headers["member"])
        assert response.status_code == 404, (path, response.get_json())


def test_a_foreign_child_under_an_own_parent_is_not_found(api, world):
    """Routes naming two objects check the second one too."""
    own, foreign = world.ids[OWN], world.ids[FOREIGN_COUNTY]
    admin = world.headers["county_admin"]
    before = api.get(f"/api/v1/users/{foreign['user']}", headers=world.headers["superuser"])
    probes = [
        ("DELETE", f"/api/v1/users/{own['user']}/roles/{foreign['role']}", admin),
        ("DELETE", f"/api/v1/cooperatives/{own['coop']}/commissioners/{foreign['user']}",
         admin),
    ]
    for method, url, headers in probes:
        response = api.open(url, method=method, headers=headers)
        assert response.status_code == 404, (url, response.get_json())
    after = api.get(f"/api/v1/users/{foreign['user']}", headers=world.headers["superuser"])
    assert json.dumps(after.get_json()["roles"]) == json.dumps(before.get_json()["roles"])
