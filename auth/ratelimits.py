"""Rate limits on the routes people could guess at: login, WeChat login, binding.

Flask-Limiter's `limiter` (coop.extensions) is a single module-level object, shared by
every app built in the process (the test suite builds several). Its `enabled` flag and
storage are whatever the last `init_app` left, so:

* the on/off switch is made per app: a request filter exempts every request of an app
  whose RATELIMIT_ENABLED is false, whatever another app turned on;
* the storage is the one from RATELIMIT_STORAGE_URI of the last app initialised — one per
  process in production; tests that count build their own app last (tests/auth).

Limits are configuration (strings like "5 per minute;20 per hour"), read per request,
with the defaults below. In production set RATELIMIT_STORAGE_URI to Redis so that all
gunicorn workers share the counters; behind a proxy the client address must be fixed up
(ProxyFix) or every caller shares the proxy's.
"""
from __future__ import annotations

import hashlib

import jwt
from flask import current_app, g, request
from flask_limiter.util import get_remote_address

from coop.extensions import limiter
from coop.validators import phone_text

# Per-address limits are generous: a village meeting's members share one Wi-Fi address, and
# mobile carriers put many phones behind one. The per-phone and per-WeChat-account limits
# are what stop guessing.
DEFAULTS = {
    "RATELIMIT_LOGIN_PER_IP": "30 per minute;300 per hour",
    # Counted on failed attempts only, so a user logging in often is never blocked.
    "RATELIMIT_LOGIN_PER_PHONE": "5 per minute;20 per hour",
    "RATELIMIT_WECHAT_PER_IP": "60 per minute;600 per hour",
    "RATELIMIT_BIND_PER_IP": "30 per minute;200 per hour",
    "RATELIMIT_BIND_PER_OPENID": "5 per 10 minutes;20 per day",
    "RATELIMIT_REDEEM_PER_USER": "5 per 10 minutes;20 per day",
    "RATELIMIT_REFRESH_PER_IP": "120 per minute",
}


@limiter.request_filter
def _disabled_in_this_app() -> bool:
    return not current_app.config.get("RATELIMIT_ENABLED", True)


def _setting(name: str):
    return lambda: current_app.config.get(name) or DEFAULTS[name]


def _digest(value: str) -> str:
    # Keys stay short whatever was posted, and phone numbers are not kept in Redis.
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]


def _json_field(name: str) -> str | None:
    body = request.get_json(silent=True)
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def _phone_key() -> str:
    # The spelling LoginIn loads (coop.fields.Phone): "138 0000 0005" counts against the
    # same bucket as "13800000005". Other spellings never reach a user (422).
    phone = _json_field("phone")
    phone = phone_text(phone) if phone and len(phone) <= 64 else phone
    return "phone:" + (_digest(phone) if phone else "-")


def _openid_key() -> str:
    # Only for counting: the view verifies the token before it looks at the code.
    token = _json_field("bind_token")
    try:
        openid = jwt.decode(token, options={"verify_signature": False}).get("sub") \
            if token else None
    except jwt.PyJWTError:
        openid = None
    return "openid:" + (_digest(openid) if isinstance(openid, str) else "-")


def _user_key() -> str:
    return f"user:{g.caller.id}"


def _failed(response) -> bool:
    return response.status_code == 401


def login_limits(view):
    """Per client address, and per phone number (failed attempts)."""
    view = limiter.limit(_setting("RATELIMIT_LOGIN_PER_PHONE"), key_func=_phone_key,
                         deduct_when=_failed)(view)
    return limiter.limit(_setting("RATELIMIT_LOGIN_PER_IP"), key_func=get_remote_address)(view)


def wechat_login_limits(view):
    return limiter.limit(_setting("RATELIMIT_WECHAT_PER_IP"), key_func=get_remote_address)(view)


def bind_limits(view):
    """Invitation-code guesses: per client address and per WeChat account."""
    view = limiter.limit(_setting("RATELIMIT_BIND_PER_OPENID"), key_func=_openid_key)(view)
    return limiter.limit(_setting("RATELIMIT_BIND_PER_IP"), key_func=get_remote_address)(view)


def redeem_limits(view):
    """Invitation-code guesses by a logged-in user (put below @access)."""
    return limiter.limit(_setting("RATELIMIT_REDEEM_PER_USER"), key_func=_user_key)(view)


def refresh_limits(view):
    return limiter.limit(_setting("RATELIMIT_REFRESH_PER_IP"), key_func=get_remote_address)(view)
