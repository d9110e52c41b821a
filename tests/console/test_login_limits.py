"""Console logins are limited per phone on failed attempts, like the API's login: a
guesser gets the 429 page, and a person logging in often is never blocked."""
from __future__ import annotations

import os
import uuid

import pytest

from coop import create_app
from coop.extensions import db as _db
from coop.extensions import limiter
from tests.conftest import TEST_CONFIG, IsolatedClient
from tests.console.conftest import PASSWORD, login


@pytest.fixture
def limited(app, db):
    storage = os.environ.get("TEST_RATELIMIT_STORAGE_URI", "memory://")
    limited_app = create_app({
        **TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": storage,
        "RATELIMIT_LOGIN_PER_PHONE": "3 per minute",
        "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": f"coop-test-{uuid.uuid4().hex}"},
    })
    limited_app.test_client_class = IsolatedClient
    yield limited_app
    limiter.reset()
    with limited_app.app_context():
        _db.engine.dispose()


def test_failed_console_logins_are_limited_per_phone(limited, make):
    county = make.county()
    user = make.user("county_finance", county, password=PASSWORD)
    other = make.user("county_finance", county, password=PASSWORD)
    for _ in range(5):      # successes are not counted
        assert login(limited.test_client(), user.phone).status_code == 303
    client = limited.test_client()
    for _ in range(3):
        assert login(client, user.phone, "wrong-password").status_code == 401
    response = login(client, user.phone, "wrong-password")
    assert response.status_code == 429
    assert "操作过于频繁" in response.get_data(as_text=True)
    assert login(limited.test_client(), other.phone).status_code == 303
