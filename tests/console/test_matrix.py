"""The console's abuse matrix: every console page and form (read from the URL map) × every
caller who can hold a console session × {own, foreign cooperative, foreign county}, on the
abuse world (tests/abuse/world.py).

What each answer must be is derived from the view's policy (`auth.policy.access`, the
API's decorator): anonymous → the login page; a role the policy does not name → the 403
page; an object outside the caller's scope → the 404 page; else the page (200) or, for a
form, its redirect or the service's refusal page. No page shows a county role another
county's names. A form POST without a valid CSRF token is 400 and writes nothing; the
cooperative's roles (coop_manager, commissioner, member) cannot log in at all.
"""
from __future__ import annotations

import pytest

from auth.models import User
from auth.passwords import hash_password
from auth.policy import policy_of
from coop.extensions import db
from tests.abuse.routes import PARAM, PARAM_OBJECT, sees
from tests.abuse.world import FOREIGN_COOP, FOREIGN_COUNTY, OWN, YEAR, build_world, row_count
from tests.console.conftest import PASSWORD, TOKEN
from tests.console.test_pages import INLINE_SCRIPT, OUTSIDE_HOST

SCOPES = (OWN, FOREIGN_COOP, FOREIGN_COUNTY)
STAFF = ("county_admin", "county_finance", "county_reviewer", "superuser")
NOT_STAFF = ("coop_manager", "commissioner", "member")
OPEN = {"console.login", "console.logout", "console.static", "console.unknown"}

# Pages that name their object in the query string.
QUERY = {
    "console.dashboard_page": lambda w, s: {"county_id": w.id(s, "county"), "year": YEAR},
    "console.report_download": lambda w, s: {"scope": "county", "id": w.id(s, "county"),
                                             "year": YEAR, "format": "csv"},
    "console.audit": lambda w, s: {"object_type": "share_operation",
                                   "object_id": w.id(s, "op")},
}

# Deliberate departures from "ok": (endpoint, caller) → (statuses, why).
_COOP_BATCH = ("the world's batch is a cooperative's: its bank file and its lines' accounts "
               "are its manager's, not the county's (the API's payer rule)")
EXCEPTIONS = {
    ("console.bank_file", "county_finance"): ({403}, _COOP_BATCH),
    ("console.line_account", "county_admin"): ({403}, _COOP_BATCH),
    ("console.bank_return", "county_admin"): ({403, 422}, _COOP_BATCH + "; no file: 422"),
    ("console.bank_return", "county_finance"): ({403, 422}, _COOP_BATCH + "; no file: 422"),
    ("console.line_account", "county_finance"): ({403}, _COOP_BATCH),
    ("console.enter_score", "superuser"): (
        {403}, "a score is one department's; a superuser is a reviewer of none (the API's "
               "PUT …/scores/{department} refuses the same way)"),
}


def _app():
    from tests.abuse.routes import _collection_app
    return _collection_app()


def console_routes(app) -> list[tuple[str, str, str]]:
    """(rule, method, endpoint) of every console page and form but login/logout/static."""
    return sorted((rule.rule, method, rule.endpoint) for rule in app.url_map.iter_rules()
                  if rule.endpoint.startswith("console.") and rule.endpoint not in OPEN
                  for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))


ROUTES = console_routes(_app())


@pytest.fixture(scope="module")
def aworld(app):
    """The abuse world, built once for this module (tests here never ask for `db`)."""
    with app.app_context():
        yield build_world()
        db.session.rollback()
        db.session.remove()


@pytest.fixture(scope="module")
def callers(app, aworld):
    """A console client per caller: anonymous (with the login page's CSRF token only) and
    each role that may log in, logged in through the form."""
    world = aworld
    with app.app_context():
        hashed = hash_password(PASSWORD)
        for user_id in world.users.values():
            db.session.get(User, user_id).password_hash = hashed
        db.session.commit()
        clients = {}
        for caller in ("anonymous",) + STAFF:
            client = app.test_client()
            token = TOKEN.search(client.get("/console/login").get_data(as_text=True)).group(1)
            if caller != "anonymous":
                phone = db.session.get(User, world.users[caller]).phone
                response = client.post("/console/login", data={
                    "phone": phone, "password": PASSWORD, "csrf_token": token})
                assert response.status_code == 303, (caller, response.status_code)
                token = TOKEN.search(client.get("/console/login").get_data(as_text=True)
                                     ).group(1)
            clients[caller] = (client, token)
        yield clients


def fill(rule: str, world, scope: str) -> str:
    return PARAM.sub(lambda m: str(PARAM_OBJECT[m.group(1)](world, scope)), rule)


def expected(policy, caller: str, scope: str, has_object: bool):
    if caller == "anonymous":
        return "login"
    if caller == "superuser":
        return "ok"
    if caller not in policy.roles:
        return 403
    if has_object and not sees(caller, scope):
        return 404
    return "ok"


def test_every_console_view_declares_a_policy(app):
    missing = [f"{m} {r}" for r, m, endpoint in console_routes(app)
               if policy_of(app.view_functions[endpoint]) is None]
    assert not missing, missing
    assert len(ROUTES) >= 20


@pytest.mark.parametrize("rule,method,endpoint", ROUTES,
                         ids=[f"{m} {r}" for r, m, _ in ROUTES])
def test_console_matrix(app, aworld, callers, rule, method, endpoint):
    world = aworld
    policy = policy_of(app.view_functions[endpoint])
    has_object = any(p not in ("year", "department") for p in PARAM.findall(rule)) \
        or endpoint in QUERY
    failures = []
    for caller in ("anonymous",) + STAFF:
        client, token = callers[caller]
        for scope in SCOPES:
            url = fill(rule, world, scope)
            query = QUERY[endpoint](world, scope) if endpoint in QUERY else {}
            if method == "POST":
                response = client.post(url, query_string=query, data={"csrf_token": token})
            else:
                response = client.get(url, query_string=query)
            want = expected(policy, caller, scope, has_object)
            status = response.status_code
            body = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
            if (endpoint, caller) in EXCEPTIONS and want == "ok":
                ok = status in EXCEPTIONS[endpoint, caller][0]
            elif want == "login":
                ok = status == 303 and "/console/login" in response.headers["Location"]
            elif want == "ok":
                ok = status == 200 if method == "GET" else status in (303, 409, 422)
            else:
                ok = status == want and body.startswith("<!doctype html>")
            if caller not in ("anonymous", "superuser") and "外县" in body:
                failures.append(f"{caller} {scope}: foreign county's name shown")
            if body and (OUTSIDE_HOST.search(body) or INLINE_SCRIPT.search(body)):
                failures.append(f"{caller} {scope}: outside host or inline script")
            if not ok:
                failures.append(f"{caller} {scope}: {status} (want {want}) "
                                f"{response.headers.get('Location', '')} {body[-300:]!r}")
    assert not failures, "\n".join(failures)


POSTS = [(r, e) for r, m, e in ROUTES if m == "POST"]


@pytest.mark.parametrize("rule,endpoint", POSTS, ids=[r for r, _ in POSTS])
def test_a_form_without_a_valid_csrf_token_is_400_and_writes_nothing(app, aworld, callers,
                                                                     rule, endpoint):
    world = aworld
    client, _ = callers["superuser"]
    url = fill(rule, world, OWN)
    with app.app_context():
        before = row_count()
        for data in ({}, {"csrf_token": "not-the-token"}, {"reason": "x", "score": "90"}):
            response = client.post(url, data=data)
            assert response.status_code == 400, (url, data, response.status_code)
            assert "CSRF" in response.get_data(as_text=True)
        db.session.rollback()
        assert row_count() == before


@pytest.mark.parametrize("role", NOT_STAFF)
def test_the_cooperatives_roles_cannot_log_in(app, aworld, role):
    world = aworld
    from tests.factories import Factory
    from coop.registry.models import Cooperative, Member
    with app.app_context():
        scope = {"coop_manager": Cooperative, "commissioner": Cooperative, "member": Member}[role]
        target = db.session.get(scope, world.id(OWN, "coop" if scope is Cooperative
                                                else "member"))
        user = Factory(db.session).user(role, target, name=f"本{role}登录", password=PASSWORD)
        phone = user.phone
    client = app.test_client()
    token = TOKEN.search(client.get("/console/login").get_data(as_text=True)).group(1)
    response = client.post("/console/login", data={"phone": phone, "password": PASSWORD,
                                                   "csrf_token": token})
    assert response.status_code == 403
    assert "工作台仅供县级工作人员使用" in response.get_data(as_text=True)
    home = client.get("/console/")
    assert home.status_code == 303 and "/console/login" in home.headers["Location"]


def test_an_unknown_console_address_is_a_page_not_json(callers):
    client, _ = callers["county_admin"]
    response = client.get("/console/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"

