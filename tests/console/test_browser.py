"""The console in a real browser: Debian's headless Chromium driven through the system
chromedriver (never a downloaded one), against the app served on a local port.

The day of two finance users and a reviewer: A approves an application and the budget bar
moves; an over-budget approval shows BUDGET_EXCEEDED's words and changes nothing; A may
not disburse and the page says why; B disburses; the reviewer enters a score; a payout
report downloads. Every page is photographed at 1366×768 (CONSOLE_SCREENSHOTS, default
ci-artifacts/console/), and the test fails if any page asked a host other than the app's.

No silent skip: without chromium and chromedriver the test fails and says what to install.
"""
from __future__ import annotations

import os
import shutil
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from coop import crypto
from coop.county.models import EvaluationScore, Program, RewardLine, RewardRound, SubsidyApplication
from tests.console.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS") or ROOT / "ci-artifacts" / "console")
YEAR = 2024


@pytest.fixture
def server(app, db):
    """The session's app on a free local port, in a thread; plain http, so the console
    cookie is not marked Secure for this run (it is everywhere but development)."""
    app.config["CONSOLE_COOKIE_SECURE"] = False
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(5)
    app.config.pop("CONSOLE_COOKIE_SECURE", None)


@pytest.fixture
def browser(tmp_path):
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        pytest.fail(f"browser tests need {', '.join(missing)}: "
                    "apt-get install -y chromium chromium-driver (.ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1366,768", "--lang=zh-CN", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-default-apps", "--disable-sync"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    yield driver
    driver.quit()


LATE_REPORT = "does not belong to the document"


def click(element):
    """Click; Chromium may report the click after the next page has replaced the element
    ("Node … does not belong to the document"): the click was made."""
    from selenium.common.exceptions import WebDriverException
    try:
        element.click()
    except WebDriverException as exc:
        if LATE_REPORT not in str(exc):
            raise


def replaced(page):
    """A wait condition: `page` (the old <html>) is gone. Selenium's `staleness_of` knows
    only StaleElementReferenceException; Chromium sometimes says the same thing as the
    late report above (seen in CI after a disburse click)."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    def gone(_driver) -> bool:
        try:
            page.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if LATE_REPORT not in str(exc):
                raise
            return True
        return False
    return gone


class Console:
    """What a person does: open a page, fill a field, press a button."""

    def __init__(self, driver, base: str):
        self.driver, self.base = driver, base
        self.requested: set[str] = set()
        SHOTS.mkdir(parents=True, exist_ok=True)

    def open(self, path: str):
        self.driver.get(self.base + path)
        self._collect()

    def shot(self, name: str):
        self.driver.save_screenshot(str(SHOTS / f"{name}.png"))

    def text(self) -> str:
        return self.driver.find_element("tag name", "main").text

    def fill(self, name: str, value: str, form=None):
        field = (form or self.driver).find_element("name", name)
        field.clear()
        field.send_keys(value)

    def press(self, element_id: str):
        self.submit(self.driver.find_element("id", element_id))

    def submit(self, button):
        """Click and wait for the next page (a form POST answers with a new page)."""
        from selenium.webdriver.support.ui import WebDriverWait
        page = self.driver.find_element("tag name", "html")
        click(button)
        WebDriverWait(self.driver, 20).until(replaced(page))
        self._collect()

    def login(self, phone: str):
        self.open("/console/login")
        self.fill("phone", phone)
        self.fill("password", PASSWORD)
        # The keyboard submits the form: Enter in the password field.
        from selenium.webdriver.support.ui import WebDriverWait
        page = self.driver.find_element("tag name", "html")
        self.driver.find_element("name", "password").send_keys("\n")
        WebDriverWait(self.driver, 20).until(replaced(page))
        self._collect()
        assert "退出登录" in self.driver.page_source, self.text()

    def logout(self):
        self.submit(self.driver.find_element("css selector", "form.logout button"))

    def _collect(self):
        import json
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                self.requested.add(message["params"]["request"]["url"])


def _world(make, db):
    county = make.county(name="单县")
    town = make.town(county, name="浮岗镇")
    village = make.village(town, name="刘庄村", secretary="李书记")
    coop = make.cooperative(village, name="刘庄村富民种植专业合作社")
    coop.bank_name, coop.bank_account_masked = "中国农业银行单县支行", "****5678"
    coop.bank_account_enc = crypto.encrypt("6228480012345678")
    make.member(coop, name="张三")
    finance_a = make.user("county_finance", county, name="财政甲", password=PASSWORD)
    finance_b = make.user("county_finance", county, name="财政乙", password=PASSWORD)
    reviewer = make.user("county_reviewer", county, name="农业评审", department="agriculture",
                         password=PASSWORD)
    admin = make.user("county_admin", county, name="县管理员", password=PASSWORD)
    manager = make.user("coop_manager", coop, name="经理")
    program = Program(county_id=county.id, name="示范社补助资金", year=YEAR,
                      budget_fen=100_000_000, committed_fen=0, disbursed_fen=0)
    db.session.add(program)
    db.session.flush()
    apps = [SubsidyApplication(county_id=county.id, cooperative_id=coop.id,
                               program_id=program.id, amount_fen=fen, purpose=purpose,
                               status="submitted", created_by=manager.id)
            for fen, purpose in ((30_000_000, "冷库建设"), (90_000_000, "烘干设备"))]
    rnd = RewardRound(county_id=county.id, year=YEAR, live_year=YEAR, status="draft",
                      program_id=program.id, excellent_award_fen=5_000_000,
                      secretary_rate=Decimal("0.15"), managers_rate=Decimal("0.15"),
                      total_fen=5_150_000, line_count=2, created_by=finance_a.id)
    db.session.add_all([*apps, rnd])
    db.session.flush()
    db.session.add_all([
        RewardLine(round_id=rnd.id, county_id=county.id, cooperative_id=coop.id,
                   village_id=village.id, kind="award", payee_key=f"cooperative:{coop.id}",
                   payee_type="cooperative", payee_name=coop.name, amount_fen=5_000_000),
        RewardLine(round_id=rnd.id, county_id=county.id, cooperative_id=coop.id,
                   village_id=village.id, kind="secretary",
                   payee_key=f"secretary:village:{village.id}", payee_type="secretary",
                   payee_name="李书记", amount_fen=150_000, income_prev_fen=1_000_000,
                   income_fen=2_000_000, rate=Decimal("0.15"))])
    db.session.commit()
    return {"county": county, "coop": coop, "a": finance_a, "b": finance_b,
            "reviewer": reviewer, "admin": admin, "program": program, "apps": apps,
            "round": rnd}


def _progress(console) -> int:
    return int(console.driver.find_element("css selector", ".budget progress")
               .get_attribute("value"))


def test_a_day_at_the_console(server, browser, make, db):
    w = _world(make, db)
    c = Console(browser, server)
    ok, over = w["apps"]
    program_page = f"/console/programs/{w['program'].id}"

    c.open("/console/programs")
    assert "/console/login" in browser.current_url       # anonymous → the login page
    c.shot("01-login")

    # Finance A: the to-do list, then approve; the budget bar moves.
    c.login(w["a"].phone)
    assert "补助申请待审批" in c.text()
    c.shot("02-todo")
    c.open("/console/programs")
    c.shot("03-programs")
    c.open(program_page)
    before = _progress(c)
    c.shot("04-program")
    c.open(f"/console/subsidy-applications/{ok.id}")
    assert "须由批准人以外的另一名财政人员办理拨付" in c.text()
    c.shot("05-application-submitted")
    c.press("approve")
    assert "已批准，预算已占用" in c.text()
    assert "您是本申请的批准人，不能办理拨付" in c.text()   # four eyes, shown before a click
    c.shot("06-application-approved")
    c.open(program_page)
    assert _progress(c) == before + 30_000_000
    assert "300,000.00 元" in c.text()

    # Over budget: the API's words, nothing changed.
    c.open(f"/console/subsidy-applications/{over.id}")
    c.press("approve")
    assert "专项资金预算不足，无法批准" in c.text() and "未做任何更改" in c.text()
    c.shot("07-budget-exceeded")
    db.session.expire_all()
    assert db.session.get(SubsidyApplication, over.id).status == "submitted"
    assert db.session.get(Program, w["program"].id).committed_fen == 30_000_000

    # A cannot disburse: the page says why, and a try is refused in the service's words.
    c.open(f"/console/subsidy-applications/{ok.id}")
    c.fill("bank_ref", "NB20240630001")
    c.press("disburse")
    assert "批准人不能同时办理拨付" in c.text()
    c.shot("08-four-eyes-refused")
    db.session.expire_all()
    assert db.session.get(SubsidyApplication, ok.id).status == "approved"

    # The round A created waits on B; A sees why A may not approve it.
    c.open(f"/console/reward-rounds/{w['round'].id}")
    assert "您创建了本轮次，不能批准" in c.text() and "10,000.00 元" in c.text()  # increase
    c.shot("09-reward-round")
    c.open("/console/reward-rounds")
    c.shot("10-reward-rounds")
    c.logout()

    # Finance B disburses.
    c.login(w["b"].phone)
    assert "补助待拨付" in c.text()
    c.open(f"/console/subsidy-applications/{ok.id}")
    assert "财政甲" in c.text()
    c.fill("bank_ref", "NB20240630001")
    c.press("disburse")
    assert "已登记拨付" in c.text() and "已拨付" in c.text()
    c.shot("11-disbursed")
    db.session.expire_all()
    app = db.session.get(SubsidyApplication, ok.id)
    assert (app.status, app.disbursed_by) == ("disbursed", w["b"].id)
    c.open(f"/console/payout-batches/{app.payout_batch_id}")
    assert "NB20240630001" in c.text()
    c.shot("12-payout-batch")

    # A payout report downloads.
    c.open("/console/reports")
    c.shot("13-reports")
    click(browser.find_element("css selector", "#download-county"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        files = [p for p in browser.downloads.iterdir() if not p.name.endswith(".crdownload")]
        if files:
            break
        time.sleep(0.2)
    assert files and files[0].suffix == ".xlsx" and files[0].stat().st_size > 0

    c.open("/console/cooperatives")
    c.fill("q", "富民")
    # htmx swaps the results in place and puts the query in the address bar.
    from selenium.webdriver.support.ui import WebDriverWait
    click(browser.find_element("css selector", "form[role=search] button"))
    WebDriverWait(browser, 20).until(lambda d: "q=" in d.current_url)
    c._collect()
    assert "刘庄村富民种植专业合作社" in c.text()
    c.shot("14-cooperatives")
    c.open(f"/console/cooperatives/{w['coop'].id}")
    assert "张三" in c.text()
    c.shot("15-cooperative")
    c.open(f"/console/dashboard?year={YEAR}")
    assert browser.execute_script("return document.querySelectorAll('canvas.chart').length") == 2
    assert browser.execute_script("return typeof Chart") == "function"
    c.shot("16-dashboard")
    c.logout()

    # The reviewer enters a score (for the next year: the round above froze this one's).
    c.login(w["reviewer"].phone)
    c.open(f"/console/evaluations/{YEAR + 1}")
    form = browser.find_element("css selector", "form.score")
    c.fill("score", "92", form)
    c.fill("opinion", "台账规范", form)
    c.submit(form.find_element("tag name", "button"))
    assert "已保存" in c.text()
    c.shot("17-evaluations")
    db.session.expire_all()
    score = db.session.query(EvaluationScore).one()
    assert (score.department, score.score, score.opinion) == ("agriculture", 92, "台账规范")
    c.logout()

    # The admin reads an object's audit trail.
    c.login(w["admin"].phone)
    c.open(f"/console/audit?object_type=subsidy_application&object_id={ok.id}")
    assert "subsidy_application.disburse" in c.text()
    c.shot("18-audit")

    # Both office screens: no page scrolls sideways (tables wrap, the menu wraps).
    pages = ["/console/", "/console/programs", program_page,
             f"/console/subsidy-applications/{ok.id}", f"/console/evaluations/{YEAR}",
             f"/console/reward-rounds/{w['round'].id}", "/console/cooperatives",
             f"/console/cooperatives/{w['coop'].id}", f"/console/payout-batches/{app.payout_batch_id}",
             f"/console/dashboard?year={YEAR}", "/console/reports",
             f"/console/audit?object_type=subsidy_application&object_id={ok.id}"]
    for width, height in ((1366, 768), (1920, 1080)):
        browser.set_window_size(width, height)
        for path in pages:
            c.open(path)
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}"
    c.open(f"/console/dashboard?year={YEAR}")
    c.shot("20-dashboard-1920x1080")
    browser.set_window_size(1366, 768)

    # Swagger UI renders from the app's own files.
    c.open("/api/v1/docs")
    time.sleep(1)
    c._collect()
    assert browser.find_elements("css selector", ".swagger-ui")
    c.shot("19-swagger-ui")

    hosts = {urlsplit(url).netloc for url in c.requested
             if not url.startswith(("data:", "blob:"))}
    assert hosts == {urlsplit(server).netloc}, f"requests to other hosts: {hosts}"
