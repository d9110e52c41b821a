"""Every route under /api/v1 declares who may call it (auth/policy.py).

Walks Flask's URL map: each view — each method of a MethodView — must carry a policy from
`@access(...)` or `@public`. Public routes must be listed here, so opening one is a
reviewed change; and a route listed here must really be public.
"""
from __future__ import annotations

from auth.policy import PUBLIC, policy_of

DOCS = {"/api/v1/openapi.json", "/api/v1/docs"}
PUBLIC_ROUTES = {
    ("/api/v1/auth/login", "POST"),
    ("/api/v1/auth/refresh", "POST"),
    ("/api/v1/auth/logout", "POST"),
    ("/api/v1/auth/wechat/login", "POST"),
    ("/api/v1/auth/wechat/bind", "POST"),
}
# CONTRACT §0: /public/* pages (disclosure notices) need no login.
PUBLIC_PREFIX = "/api/v1/public/"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def api_views(app):
    """(rule, method, view function) for every method of every /api/v1 route."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.rule in DOCS \
                or rule.rule.startswith("/api/v1/docs/"):
            continue
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method in sorted(rule.methods - IGNORED_METHODS):
            func = getattr(view_class, method.lower(), None) if view_class else view
            yield rule.rule, method, func


def test_the_walk_sees_every_route(app):
    seen = {(rule, method) for rule, method, _ in api_views(app)}
    assert ("/api/v1/users", "GET") in seen and ("/api/v1/users", "POST") in seen
    assert ("/api/v1/counties/<int:county_id>/zones", "POST") in seen
    assert PUBLIC_ROUTES <= seen


def test_every_api_route_declares_a_policy(app):
    missing = [f"{method} {rule}" for rule, method, func in api_views(app)
               if func is None or policy_of(func) is None]
    assert not missing, "routes without @access/@public:\n" + "\n".join(missing)


def test_public_routes_are_exactly_the_allowlist(app):
    public = {(rule, method) for rule, method, func in api_views(app)
              if func is not None and policy_of(func) is not None
              and policy_of(func).roles == PUBLIC}
    unexpected = {(r, m) for r, m in public - PUBLIC_ROUTES if not r.startswith(PUBLIC_PREFIX)}
    assert not unexpected, f"public routes not in the allowlist: {sorted(unexpected)}"
    assert PUBLIC_ROUTES <= public, f"allowlisted but not public: {PUBLIC_ROUTES - public}"


def test_a_view_without_policy_would_be_caught(app):
    # The check above must not pass vacuously: an undecorated function has no policy.
    def naked():
        return "open"
    assert policy_of(naked) is None
