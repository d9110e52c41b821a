"""Fixtures for the identity tests: a real fake WeChat server, and login helpers."""
from __future__ import annotations

import pytest

from tests.auth.fake_wechat import FakeWechat, base_url, start_fake_wechat

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def wechat_server():
    server = start_fake_wechat()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def wechat(app, wechat_server, monkeypatch):
    """Point the app at the fake server for one test; yields the list of received queries."""
    monkeypatch.setitem(app.config, "WECHAT_API_BASE", base_url(wechat_server))
    FakeWechat.received = []
    return FakeWechat.received


def login(client, phone: str, password: str = PASSWORD, **kw):
    return client.post("/api/v1/auth/login", json={"phone": phone, "password": password}, **kw)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def county(make):
    return make.county(code="371722")


@pytest.fixture
def admin(make, county):
    """A county_admin with a password, and the tokens of a real login."""
    return make.user("county_admin", county, phone="15000000001", password=PASSWORD,
                     name="王县管")


@pytest.fixture
def admin_tokens(client, admin):
    response = login(client, admin.phone)
    assert response.status_code == 200, response.get_json()
    return response.get_json()
