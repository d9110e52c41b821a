"""Fixtures of the notification tests: the county world of tests/county, the fake WeChat
server of tests/auth (extended with stable_token and subscribeMessage.send)."""
from __future__ import annotations

import pytest

from auth.models import WechatBinding
from coop.notifications.models import TEMPLATE_KEYS, WechatSubscription
from tests.auth.conftest import wechat_server  # noqa: F401 (a fixture)
from tests.auth.fake_wechat import FakeWechat, base_url
from tests.county.conftest import world  # noqa: F401 (a fixture)

TEMPLATES = {key: f"TPL-{key}" for key in TEMPLATE_KEYS}


@pytest.fixture
def wx(app, wechat_server, monkeypatch):  # noqa: F811
    """The app pointed at the fake WeChat server with every template configured; yields
    the fake's class (its `sent`, `tokens`, `received`)."""
    monkeypatch.setitem(app.config, "WECHAT_API_BASE", base_url(wechat_server))
    monkeypatch.setitem(app.config, "WECHAT_TEMPLATES", dict(TEMPLATES))
    monkeypatch.setitem(app.config, "WECHAT_TIMEOUT_SECONDS", 2.0)
    FakeWechat.reset()
    yield FakeWechat
    FakeWechat.reset()


@pytest.fixture
def templates(app, monkeypatch):
    """Every template configured, without a WeChat server (the outbox side only)."""
    monkeypatch.setitem(app.config, "WECHAT_TEMPLATES", dict(TEMPLATES))


def bind(session, user, openid: str, accepted: dict[str, int] | None = None) -> None:
    """Bind `user` to WeChat as `openid`, with `accepted` acceptances per template key."""
    session.add(WechatBinding(openid=openid, user_id=user.id))
    for key, count in (accepted or {}).items():
        session.add(WechatSubscription(user_id=user.id, template_key=key, remaining=count,
                                       accepted_total=count, last_answer="accept"))
    session.commit()


def inbox(client, headers, **query) -> dict:
    response = client.get("/api/v1/me/notifications", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def kinds(client, headers) -> list[str]:
    return [n["kind"] for n in inbox(client, headers, per_page=100)["items"]]
