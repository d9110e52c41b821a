"""Rate limits (Flask-Limiter): login per phone and per address, WeChat binding attempts.

The shared test app runs with limits off; these tests build their own app with limits on,
storage from TEST_RATELIMIT_STORAGE_URI (CI: the local Redis) or memory, and small limits.
"""
from __future__ import annotations

import os
import uuid

import pytest

from coop import create_app
from coop.extensions import db as _db
from coop.extensions import limiter
from tests.auth.conftest import PASSWORD, login
from tests.auth.fake_wechat import base_url
from tests.conftest import TEST_CONFIG, IsolatedClient

LIMITS = {
    "RATELIMIT_LOGIN_PER_PHONE": "3 per minute",
    "RATELIMIT_LOGIN_PER_IP": "5 per minute",
    "RATELIMIT_BIND_PER_OPENID": "2 per minute",
    "RATELIMIT_BIND_PER_IP": "4 per minute",
    "RATELIMIT_WECHAT_PER_IP": "50 per minute",
}


@pytest.fixture
def limited(app, db, wechat_server):
    yield from _limited_client(app, wechat_server)


@pytest.fixture
def behind_proxy(app, db, wechat_server):
    """Limits on, behind one reverse proxy (nginx) that appends X-Forwarded-For."""
    yield from _limited_client(app, wechat_server, TRUSTED_PROXIES=1)


def _limited_client(app, wechat_server, **extra):
    """A second app on the same database with limits on; built after the shared app."""
    storage = os.environ.get("TEST_RATELIMIT_STORAGE_URI", "memory://")
    limited_app = create_app({
        **TEST_CONFIG, **LIMITS, **extra,
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "WECHAT_API_BASE": base_url(wechat_server),
        "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": storage,
        # A prefix of our own: nothing else in that Redis database is counted or cleared.
        "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": f"coop-test-{uuid.uuid4().hex}"},
    })
    limited_app.test_client_class = IsolatedClient
    yield limited_app.test_client()
    limiter.reset()
    with limited_app.app_context():
        _db.engine.dispose()


def from_ip(ip: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": ip}}


def assert_limited(response) -> None:
    assert response.status_code == 429, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "RATE_LIMITED" and body["status"] == 429
    assert int(response.headers["Retry-After"]) > 0


def test_the_storage_is_the_configured_one(limited):
    expected = os.environ.get("TEST_RATELIMIT_STORAGE_URI", "memory://").split(":")[0]
    assert type(limiter.storage).__name__.lower().startswith(expected)


def test_failed_logins_are_limited_per_phone_across_addresses(limited, admin):
    for i in range(3):
        assert login(limited, admin.phone, "wrong-password", **from_ip(f"10.0.0.{i}")
                     ).status_code == 401
    assert_limited(login(limited, admin.phone, "wrong-password", **from_ip("10.0.0.9")))
    # Even the right password waits now: the phone is under attack.
    assert_limited(login(limited, admin.phone, PASSWORD, **from_ip("10.0.0.10")))
    # Another phone is not affected.
    assert login(limited, "15999999999", "wrong-password", **from_ip("10.0.0.11")
                 ).status_code == 401


def test_successful_logins_do_not_use_up_the_phone_limit(limited, admin):
    for i in range(4):
        assert login(limited, admin.phone, **from_ip(f"10.0.1.{i}")).status_code == 200


def test_logins_are_limited_per_address(limited, db):
    for i in range(5):
        assert login(limited, f"1590000000{i}", "wrong-password", **from_ip("10.0.2.1")
                     ).status_code == 401
    assert_limited(login(limited, "15900000009", "wrong-password", **from_ip("10.0.2.1")))
    assert login(limited, "15900000009", "wrong-password", **from_ip("10.0.2.2")
                 ).status_code == 401


def via_proxy(forwarded_for: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": "127.0.0.1"},
            "headers": {"X-Forwarded-For": forwarded_for}}


def test_behind_a_proxy_each_client_address_has_its_own_count(behind_proxy, db):
    for i in range(5):
        assert login(behind_proxy, f"1590000001{i}", "wrong-password",
                     **via_proxy("36.1.1.1")).status_code == 401
    assert_limited(login(behind_proxy, "15900000019", "wrong-password",
                         **via_proxy("36.1.1.1")))
    # Another phone user behind the same nginx is not blocked by the first one's count …
    assert login(behind_proxy, "15900000019", "wrong-password",
                 **via_proxy("36.2.2.2")).status_code == 401
    # … and a client cannot escape its count by sending an X-Forwarded-For of its own:
    # only the address our proxy appended (the last one) is trusted.
    assert_limited(login(behind_proxy, "15900000019", "wrong-password",
                         **via_proxy("8.8.8.8, 36.1.1.1")))


def _bind_token(limited, openid: str, ip: str) -> str:
    response = limited.post("/api/v1/auth/wechat/login", json={"code": f"ok:{openid}"},
                            **from_ip(ip))
    return response.get_json()["bind_token"]


def test_bind_attempts_are_limited_per_wechat_account(limited, make):
    member = make.member(make.cooperative())
    manager = make.headers(make.user("coop_manager", db_coop(member)))
    token = _bind_token(limited, "guesser", "10.0.3.1")
    for i in range(2):
        response = limited.post("/api/v1/auth/wechat/bind", **from_ip(f"10.0.3.{i}"),
                                json={"bind_token": token, "invite_code": f"WRONG{i}"})
        assert response.get_json()["code"] == "INVITE_INVALID"
    code = limited.post(f"/api/v1/members/{member.id}/invitations",
                        headers=manager).get_json()["invite_code"]
    # The right code no longer helps this account for a while.
    assert_limited(limited.post("/api/v1/auth/wechat/bind", **from_ip("10.0.3.7"),
                                json={"bind_token": token, "invite_code": code}))
    other = _bind_token(limited, "honest", "10.0.3.8")
    assert limited.post("/api/v1/auth/wechat/bind", **from_ip("10.0.3.8"),
                        json={"bind_token": other, "invite_code": code}).status_code == 200


def db_coop(member):
    from coop.registry.models import Cooperative
    return _db.session.get(Cooperative, member.cooperative_id)


def test_bind_attempts_are_limited_per_address(limited):
    for i in range(4):
        token = _bind_token(limited, f"openid-{i}", "10.0.4.1")
        response = limited.post("/api/v1/auth/wechat/bind", **from_ip("10.0.4.1"),
                                json={"bind_token": token, "invite_code": "WRONGCODE"})
        assert response.status_code == 422
    token = _bind_token(limited, "openid-9", "10.0.4.1")
    assert_limited(limited.post("/api/v1/auth/wechat/bind", **from_ip("10.0.4.1"),
                                json={"bind_token": token, "invite_code": "WRONGCODE"}))


def test_the_shared_app_stays_unlimited_after_a_limited_app_was_built(limited, client, admin):
    # The limiter object is shared; RATELIMIT_ENABLED=False must still hold for this app.
    for _ in range(8):
        assert login(client, admin.phone, "wrong-password").status_code == 401
