"""The public notice page (公示): no login, masked names, yuan, a phone-sized page."""
from __future__ import annotations

import os
import shutil
import subprocess
import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from coop.distribution.models import DistributionPlan
from tests.distribution.builders import ADOPTING_VOTES, act, create_plan, worked_example

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def published(client, db, make):
    coop, collective, a, b, c, d = worked_example(make, db.session)
    coop.name = "东村果蔬专业合作社"
    db.session.commit()
    _, headers = make.login("coop_manager", coop)
    plan = create_plan(client, headers, coop)
    act(client, headers, plan["id"], "submit")
    act(client, headers, plan["id"], "record-assembly", ADOPTING_VOTES)
    published = act(client, headers, plan["id"], "publish", {"notice_days": 0})
    path = "/public/disclosures/" + published["public_url"].rsplit("/", 1)[1]
    return coop, headers, plan["id"], path


def test_notice_shows_masked_names_and_yuan_without_login(client, published):
    coop, headers, plan_id, path = published
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and 'name="viewport"' in html
    assert "2024 年度盈余分配方案公示" in html and "东村果蔬专业合作社" in html
    assert "张*丰" in html and "李*" in html and "王*妹" in html
    assert "张三丰" not in html and "李四" not in html
    # A: 39,180,706 fen; distributable 104,400,000 fen
    assert "391,807.06" in html and "1,044,000.00" in html
    assert "6228480000000000000" not in html and "****0000" not in html
    assert "东村村民委员会（村集体）" in html   # an organization, not a person: not masked
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_notice_is_also_served_under_the_api_base_path(client, published):
    _, _, _, path = published
    assert client.get("/api/v1" + path).status_code == 200


@pytest.mark.parametrize("token", ["nope", "A" * 32, "bad.token!", "x" * 300])
def test_unknown_token_is_a_404_page(client, published, token):
    response = client.get(f"/public/disclosures/{token}")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "公示不存在" in response.get_data(as_text=True)


def test_cancelled_plan_leaves_the_board(client, published):
    coop, headers, plan_id, path = published
    act(client, headers, plan_id, "cancel")
    assert client.get(path).status_code == 404


def test_draft_plans_have_no_public_url(client, db, make):
    coop, *_ = worked_example(make, db.session)
    _, headers = make.login("coop_manager", coop)
    plan = create_plan(client, headers, coop)
    assert plan["public_url"] is None
    assert db.session.execute(select(DistributionPlan.public_token)).scalar_one() is None


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def chromium(tmp_path, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=390,1400", *args],
        capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_notice_renders_in_a_real_browser_on_a_phone_sized_window(published, live_server,
                                                                  tmp_path):
    assert os.access(CHROMIUM, os.X_OK), "chromium is required (apt-get install chromium)"
    _, _, _, path = published
    url = live_server + path
    dom = chromium(tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "年度盈余分配方案公示" in dom.stdout
    assert "张*丰" in dom.stdout and "391,807.06" in dom.stdout
    assert "张三丰" not in dom.stdout
    shot = tmp_path / "notice.png"
    result = chromium(tmp_path, f"--screenshot={shot}", url)
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 5_000
