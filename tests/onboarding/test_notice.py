"""The public notice tells every line apart by the member's register number, and on a
390-px phone every figure of every member is on screen without sideways scrolling."""
from __future__ import annotations

import re
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests.distribution.builders import (ADOPTING_VOTES, act, create_plan, give_account,
                                         give_capital, give_trades)

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture
def notice(client, db, make, world):
    """Six members: the collective and five farmers whose names all mask to 刘*."""
    coop = world.coop
    collective = make.member(coop, name="刘庄村股份经济合作社", member_type="collective")
    farmers = [make.member(coop, name=name) for name in ("刘一", "刘二", "刘三", "刘四", "刘五")]
    give_capital(db.session, coop, {collective: 300_000, **{f: 100_000 + i * 1_000
                                                           for i, f in enumerate(farmers)}})
    give_trades(db.session, coop, 2024, {f: 50_000 + i * 7_000 for i, f in enumerate(farmers)})
    give_account(db.session, coop, 2024, revenue_fen=12_345_678_90, cost_fen=2_345_678_90)
    db.session.commit()
    plan = create_plan(client, world.manager, coop)
    act(client, world.manager, plan["id"], "submit")
    act(client, world.manager, plan["id"], "record-assembly", ADOPTING_VOTES)
    published = act(client, world.manager, plan["id"], "publish", {"notice_days": 0})
    return "/public/disclosures/" + published["public_url"].rsplit("/", 1)[1], farmers


def test_five_members_masked_alike_are_told_apart_by_their_numbers(client, notice):
    path, farmers = notice
    html = client.get(path).get_data(as_text=True)
    rows = re.findall(r'<td class="no" data-label="编号">(\d+)</td>\s*'
                      r'<td class="who" data-label="成员">([^<]+)</td>', html)
    assert [name for _, name in rows].count("刘*") == 5
    numbers = [no for no, _ in rows]
    assert numbers == ["001", "002", "003", "004", "005", "006"]   # entered in that order
    assert "刘一" not in html and "刘五" not in html


@pytest.fixture
def live(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def phone():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        pytest.fail(f"needs {', '.join(missing)}: apt-get install -y chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--lang=zh-CN", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"):
        options.add_argument(arg)
    # A 390-px-wide phone (iPhone 12–15) at its device pixel ratio, as a phone renders.
    options.add_experimental_option("mobileEmulation", {
        "deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 3.0}})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


# Every cell of every member line: its text, and whether it lies inside the viewport.
CELLS = """
const width = document.documentElement.clientWidth;
return {width, scrollWidth: document.documentElement.scrollWidth,
        cells: [...document.querySelectorAll('table.lines tbody td')].map(td => {
          const r = td.getBoundingClientRect();
          return {label: td.dataset.label, text: td.innerText.trim(),
                  shown: r.width > 0 && r.left >= 0 && r.right <= width + 0.5};
        })};
"""


@pytest.mark.slow
def test_on_a_390px_phone_every_figure_is_on_screen(notice, live, phone, tmp_path):
    path, _ = notice
    phone.get(live + path)
    page = phone.execute_script(CELLS)
    assert page["width"] == 390
    assert page["scrollWidth"] <= page["width"], "the page scrolls sideways"
    cells = page["cells"]
    assert len(cells) == 6 * 7            # six members × (number, name, five figures)
    hidden = [c for c in cells if not c["shown"]]
    assert not hidden, hidden
    assert {c["label"] for c in cells} == {"编号", "成员", "交易额", "交易量返还",
                                          "出资及量化份额", "按股分配", "合计"}
    # each figure is shown with its label beside it (the header row is not on screen)
    labels = phone.execute_script(
        "return [...document.querySelectorAll('table.lines tbody td.num')]"
        ".map(td => getComputedStyle(td, '::before').content);")
    assert set(labels) == {'"交易额"', '"交易量返还"', '"出资及量化份额"', '"按股分配"', '"合计"'}
    assert phone.execute_script(
        "return getComputedStyle(document.querySelector('table.lines thead')).display") == "none"
    assert phone.save_screenshot(str(tmp_path / "notice-390px.png"))
