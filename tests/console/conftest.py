"""Console test helpers: a form login through the real pages, and the CSRF token read
from the page the way a browser would submit it."""
from __future__ import annotations

import re

import pytest

from tests.county.conftest import world  # noqa: F401 (fixture)

PASSWORD = "console-pass-2024"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code, page.get_data(as_text=True)[:500])
    match = TOKEN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def login(client, phone: str, password: str = PASSWORD):
    token = csrf_of(client, "/console/login")
    return client.post("/console/login", data={"phone": phone, "password": password,
                                               "csrf_token": token})


def post_form(client, page_url: str, action_url: str, **fields):
    """Submit a form of `page_url` as the browser does: with the page's CSRF token."""
    return client.post(action_url, data={"csrf_token": csrf_of(client, page_url), **fields})


@pytest.fixture
def staff(make, world):  # noqa: F811
    """Console-ready users: the county world's staff, each with a password."""
    from auth.passwords import hash_password
    hashed = hash_password(PASSWORD)
    for user, _ in (world.admin, world.finance1, world.finance2, world.manager, world.finance_b,
                    world.admin_b, *world.reviewers.values()):
        user.password_hash = hashed
    make.session.commit()
    return world


def as_user(app, user):
    """A fresh client logged in to the console as `user` (who has PASSWORD)."""
    client = app.test_client()
    response = login(client, user.phone)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return client
