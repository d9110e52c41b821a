"""Response headers and public links (issue 20, item 11): no JSON answer is cached or
sniffed; HTML pages cannot be framed; `public_url` is built on PUBLIC_BASE_URL, never on
the Host header a caller sends."""
from __future__ import annotations

import pytest

from config import ConfigError, check_production_secrets, load_config
from tests.distribution.builders import ADOPTING_VOTES, act, create_plan, worked_example


@pytest.fixture
def publish(client, db, make):
    coop, *_ = worked_example(make, db.session)
    _, headers = make.login("coop_manager", coop)
    plan = create_plan(client, headers, coop)
    act(client, headers, plan["id"], "submit")
    act(client, headers, plan["id"], "record-assembly", ADOPTING_VOTES)
    return lambda **kw: client.post(f"/api/v1/distributions/{plan['id']}/publish",
                                    headers={**headers, **kw}, json={"notice_days": 0})


def test_public_url_ignores_the_host_header(app, publish):
    response = publish(Host="evil.example", **{"X-Forwarded-Host": "evil.example"})
    assert response.status_code == 200, response.get_json()
    url = response.get_json()["public_url"]
    assert url.startswith(app.config["PUBLIC_BASE_URL"] + "/"), url
    assert "/public/disclosures/" in url
    assert "evil" not in url
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_notice_page_cannot_be_framed(client, app, publish):
    url = publish().get_json()["public_url"]
    page = client.get(url.removeprefix(app.config["PUBLIC_BASE_URL"]))
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    missing = client.get("/public/disclosures/" + "x" * 43)
    assert missing.status_code == 404
    assert "frame-ancestors 'none'" in missing.headers["Content-Security-Policy"]


def test_errors_and_health_answers_carry_the_json_headers(client, db):
    for response in (client.get("/api/v1/me"), client.get("/api/v1/no-such-thing"),
                     client.get("/healthz")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        if response.is_json:
            assert response.headers["Cache-Control"] == "no-store"


def test_production_requires_an_absolute_public_base_url():
    env = {"COOP_ENV": "production", "SECRET_KEY": "s" * 40, "JWT_SECRET": "s" * 40,
           "FIELD_ENCRYPTION_KEY": "s" * 40, "WECHAT_SECRET": "real",
           "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"}
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        check_production_secrets(load_config(env))
    for bad in ("coop.example.cn", "ftp://coop.example.cn", "https://a@b.cn", "https://x.cn/?a=1"):
        with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
            load_config({**env, "PUBLIC_BASE_URL": bad})
    cfg = load_config({**env, "PUBLIC_BASE_URL": "https://coop.example.cn/"})
    check_production_secrets(cfg)
    assert cfg["PUBLIC_BASE_URL"] == "https://coop.example.cn"
