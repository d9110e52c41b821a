"""The console's cookie session, its CSRF token and its idle timeout (CONTRACT §11).

The app as a whole keeps no cookie session (the API is bearer-token only); the console
keeps one signed cookie, scoped to /console, holding: the user and the token family that
the console login started (auth/tokens.py: logging out revokes that family, and revoking
a user's families — a password change, a disabled user — ends console sessions too), the
CSRF token of every form, when the session was last used, and one flash message.

Identity goes through the policy layer unchanged: `begin()` sets `g.identity_source`, and
`auth.policy.authenticate()` then checks the user, the family and the grants exactly as
for a bearer token.
"""
from __future__ import annotations

import hmac
import secrets

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer

import coop.clock as clock
from coop.errors import DomainError, Unauthorized

COOKIE = "coop_console"
PATH = "/console"


class CSRFRejected(DomainError):
    status, code = 400, "CSRF_FAILED"


class SessionExpired(Unauthorized):
    """The session was idle longer than CONSOLE_IDLE_MINUTES."""


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="coop-console-session")


def _read() -> dict:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return {}
    try:
        data = _serializer().loads(raw)
    except BadSignature:
        return {}
    return data if isinstance(data, dict) else {}


def _identity():
    data = g.console
    if g.get("console_expired"):
        raise SessionExpired("登录已超时，请重新登录", code="SESSION_EXPIRED")
    if not data.get("uid"):
        raise Unauthorized("请先登录", code="AUTH_REQUIRED")
    return int(data["uid"]), int(data["fam"])


def begin() -> None:
    """Before every console request: read the cookie, end an idle session, give the
    request its CSRF token, and check it on every POST (400 without a valid one)."""
    data = _read()
    now = clock.now().timestamp()
    idle = current_app.config["CONSOLE_IDLE_MINUTES"] * 60
    if data.get("uid") and now - float(data.get("seen", 0)) > idle:
        g.console_expired = True
        data = {"csrf": data.get("csrf")}
    if not data.get("csrf"):
        data["csrf"] = secrets.token_urlsafe(32)
    if data.get("uid"):
        data["seen"] = now
    g.console = data
    g.identity_source = _identity
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        if not (request.cookies.get(COOKIE) and sent
                and hmac.compare_digest(sent.encode(), str(data["csrf"]).encode())):
            raise CSRFRejected("表单已失效或来源不明（缺少有效的 CSRF 令牌），未做任何更改。"
                               "请刷新页面后重试。")


def log_in(user_id: int, family_id: int) -> None:
    # A new CSRF token at login: a token planted before login is worth nothing after it.
    g.console = {"uid": user_id, "fam": family_id, "seen": clock.now().timestamp(),
                 "csrf": secrets.token_urlsafe(32)}
    g.pop("console_expired", None)


def log_out() -> None:
    g.console = {"csrf": secrets.token_urlsafe(32)}


def family_id() -> int | None:
    fam = g.console.get("fam")
    return int(fam) if fam else None


def csrf_token() -> str:
    return g.console["csrf"]


def flash(message: str) -> None:
    g.console["flash"] = message


def pop_flash() -> str | None:
    return g.console.pop("flash", None)


def save(response):
    """After every console request: write the session back (sliding idle timeout)."""
    data = g.get("console")
    if data is None:
        return response
    config = current_app.config
    secure = config.get("CONSOLE_COOKIE_SECURE", config["COOP_ENV"] != "development")
    response.set_cookie(COOKIE, _serializer().dumps(data), path=PATH, httponly=True,
                        samesite="Lax", secure=secure)
    return response
