"""The console through Flask's client: login and who may log in, CSRF, the idle timeout,
logout, the four-eyes rule and a refusal shown in the API's words with nothing changed,
scope (foreign → 404 page, wrong role → 403 page), security headers, local Swagger UI."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

import coop.clock as clock
from coop.county.models import EvaluationScore, Program, SubsidyApplication
from coop import crypto
from tests.console.conftest import TOKEN, as_user, login, post_form
from tests.county.test_evaluations import make_program
from tests.county.test_subsidies import apply

OUTSIDE_HOST = re.compile(r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//""", re.I)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)


def application(client, world, budget_fen=1_000_000, amount_fen=400_000):
    program = make_program(client, world, budget_fen=budget_fen)
    app_id = apply(client, world, program["id"], amount_fen).get_json()["id"]
    return program["id"], app_id


def test_anonymous_is_sent_to_the_login_page(client, staff):
    response = client.get("/console/programs?sort=name")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/console/login?next=")
    assert "programs" in response.headers["Location"]
    page = client.get("/console/login").get_data(as_text=True)
    assert "手机号" in page and "密码" in page


def test_wrong_password_stays_on_the_login_page(client, staff):
    response = login(client, staff.finance1[0].phone, "wrong-password")
    assert response.status_code == 401
    assert "手机号或密码错误" in response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["manager", "member"])
def test_a_coop_manager_or_member_cannot_log_in(app, client, staff, make, db, who):
    from auth.models import TokenFamily
    from auth.passwords import hash_password
    from tests.console.conftest import PASSWORD
    if who == "manager":
        user = staff.manager[0]
    else:
        user = make.user("member", make.member(staff.coop, name="张三"),
                         password=PASSWORD)
    user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    response = login(client, user.phone)
    assert response.status_code == 403
    assert "工作台仅供县级工作人员使用" in response.get_data(as_text=True)
    assert client.get("/console/").status_code == 303          # no session was given
    # The family the refused login opened is closed at once.
    newest = db.session.query(TokenFamily).filter_by(user_id=user.id).order_by(
        TokenFamily.id.desc()).first()
    assert newest.revoked_at is not None


def test_session_cookie_is_httponly_lax_and_scoped(client, staff):
    response = login(client, staff.finance1[0].phone)
    assert response.status_code == 303 and response.headers["Location"] == "/console/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" in cookie          # the testing profile is not development


def test_a_post_without_a_valid_csrf_token_is_400_and_changes_nothing(app, client, staff, db):
    _, app_id = application(client, staff)
    finance = as_user(app, staff.finance1[0])
    for data in ({}, {"csrf_token": "forged"}):
        response = finance.post(f"/console/subsidy-applications/{app_id}/approve", data=data)
        assert response.status_code == 400
        assert "CSRF" in response.get_data(as_text=True)
    assert db.session.get(SubsidyApplication, app_id).status == "submitted"


def test_approve_then_disburse_by_another_finance_user(app, client, staff, db):
    program_id, app_id = application(client, staff)
    page = f"/console/subsidy-applications/{app_id}"
    a, b = as_user(app, staff.finance1[0]), as_user(app, staff.finance2[0])
    assert "400,000.00 元" not in a.get(f"/console/programs/{program_id}").get_data(as_text=True)
    response = post_form(a, page, f"{page}/approve")
    assert response.status_code == 303 and response.headers["Location"] == page
    shown = a.get(page).get_data(as_text=True)
    assert "已批准，预算已占用" in shown and "您是本申请的批准人，不能办理拨付" in shown
    assert "4,000.00 元" in a.get(f"/console/programs/{program_id}").get_data(as_text=True)

    # A may not disburse: the service's refusal, in its words, and nothing changes.
    response = post_form(a, page, f"{page}/disburse", paid_on=clock.today().isoformat(),
                         bank_ref="NB1")
    assert response.status_code == 403
    text = response.get_data(as_text=True)
    assert "批准人不能同时办理拨付" in text and "FOUR_EYES_REQUIRED" in text
    assert db.session.get(SubsidyApplication, app_id).status == "approved"

    b_page = b.get(page).get_data(as_text=True)
    assert staff.finance1[0].name in b_page and "您是本申请的批准人" not in b_page
    response = post_form(b, page, f"{page}/disburse", paid_on=clock.today().isoformat(),
                         bank_ref="NB1")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(SubsidyApplication, app_id).status == "disbursed"
    assert db.session.get(Program, program_id).disbursed_fen == 400_000


def test_over_budget_shows_the_apis_words_and_changes_nothing(app, client, staff, db):
    program_id, app_id = application(client, staff, budget_fen=100_000, amount_fen=400_000)
    finance = as_user(app, staff.finance1[0])
    page = f"/console/subsidy-applications/{app_id}"
    response = post_form(finance, page, f"{page}/approve")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "专项资金预算不足，无法批准" in text and "BUDGET_EXCEEDED" in text
    assert "未做任何更改" in text
    db.session.expire_all()
    assert db.session.get(SubsidyApplication, app_id).status == "submitted"
    assert db.session.get(Program, program_id).committed_fen == 0


def test_reject_needs_a_reason(app, client, staff, db):
    _, app_id = application(client, staff)
    finance = as_user(app, staff.finance2[0])
    page = f"/console/subsidy-applications/{app_id}"
    assert post_form(finance, page, f"{page}/reject", reason=" ").status_code == 422
    assert post_form(finance, page, f"{page}/reject", reason="材料不全").status_code == 303
    assert db.session.get(SubsidyApplication, app_id).reject_reason == "材料不全"


def test_foreign_county_is_404_and_a_wrong_role_403(app, client, staff, db):
    _, app_id = application(client, staff)
    foreign = as_user(app, staff.finance_b[0])
    assert foreign.get(f"/console/subsidy-applications/{app_id}").status_code == 404
    reviewer = as_user(app, staff.reviewers["finance"][0])
    page = f"/console/subsidy-applications/{app_id}"
    assert reviewer.get(page).status_code == 200
    response = post_form(reviewer, page, f"{page}/approve")
    assert response.status_code == 403 and "无权" in response.get_data(as_text=True)
    assert db.session.get(SubsidyApplication, app_id).status == "submitted"
    admin = as_user(app, staff.admin[0])
    assert admin.get("/console/audit?object_type=subsidy_application"
                     f"&object_id={app_id}").status_code == 200
    assert as_user(app, staff.admin_b[0]).get(
        f"/console/audit?object_type=subsidy_application&object_id={app_id}").status_code == 404


def test_a_reviewer_scores_only_their_department(app, client, staff, db):
    program = make_program(client, staff)
    from tests.county.test_evaluations import set_rules
    set_rules(client, staff, program["id"], year=2024)
    reviewer = as_user(app, staff.reviewers["agriculture"][0])
    page = "/console/evaluations/2024"
    text = reviewer.get(page).get_data(as_text=True)
    assert "/agriculture/score" in text and "/organization/score" not in text
    url = f"/console/cooperatives/{staff.coop.id}/evaluations/2024/agriculture/score"
    assert post_form(reviewer, page, url, score="88", opinion="良好").status_code == 303
    row = db.session.query(EvaluationScore).filter_by(cooperative_id=staff.coop.id).one()
    assert (row.department, row.score, row.opinion) == ("agriculture", 88, "良好")
    other = f"/console/cooperatives/{staff.coop.id}/evaluations/2024/finance/score"
    assert post_form(reviewer, page, other, score="88").status_code == 403
    assert post_form(reviewer, page, url, score="101").status_code == 422


def test_idle_session_is_over(app, client, staff, monkeypatch):
    finance = as_user(app, staff.finance1[0])
    assert finance.get("/console/").status_code == 200
    later = clock.now() + timedelta(minutes=app.config["CONSOLE_IDLE_MINUTES"] + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    response = finance.get("/console/")
    assert response.status_code == 303 and "expired=1" in response.headers["Location"]
    assert "登录已超时" in finance.get(response.headers["Location"]).get_data(as_text=True)
    assert finance.get("/console/").status_code == 303


def test_logout_ends_the_session_and_its_token_family(app, client, staff, db):
    finance = as_user(app, staff.finance1[0])
    stolen = finance.get_cookie("coop_console", path="/console").value
    response = post_form(finance, "/console/", "/console/logout")
    assert response.status_code == 303
    assert finance.get("/console/").status_code == 303
    thief = app.test_client()
    thief.set_cookie("coop_console", stolen, path="/console")
    assert thief.get("/console/").status_code == 303      # the family is revoked


def test_pages_carry_a_strict_csp_and_load_nothing_from_elsewhere(app, client, staff):
    _, app_id = application(client, staff)
    finance = as_user(app, staff.finance1[0])
    pages = ["/console/", "/console/programs", "/console/evaluations/2024",
             "/console/reward-rounds", "/console/cooperatives",
             f"/console/cooperatives/{staff.coop.id}", "/console/dashboard?year=2024",
             "/console/reports", f"/console/subsidy-applications/{app_id}"]
    for url in pages:
        response = finance.get(url)
        assert response.status_code == 200, url
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        html = response.get_data(as_text=True)
        assert not OUTSIDE_HOST.search(html), url
        assert not INLINE_SCRIPT.search(html), url
        assert " style=" not in html, url
    for asset in ("vendor/htmx-2.0.8.min.js", "vendor/chart-4.5.1.umd.min.js", "console.css",
                  "console.js"):
        assert finance.get(f"/console/static/{asset}").status_code == 200


def test_members_are_masked_as_the_api_masks_them(app, client, staff, make, db):
    make.member(staff.coop, name="王五", phone="13912345678", bank_account="6228480012345678")
    finance = as_user(app, staff.finance1[0])
    api = client.get(f"/api/v1/cooperatives/{staff.coop.id}/members",
                     headers=staff.finance1[1]).get_json()["items"][0]
    html = finance.get(f"/console/cooperatives/{staff.coop.id}").get_data(as_text=True)
    assert api["id_card_no"] in html and "*" in api["id_card_no"]
    assert api["phone"] in html and "13912345678" not in html
    assert api["bank_account"] in html and "6228480012345678" not in html


def test_a_payout_report_downloads(app, client, staff):
    finance = as_user(app, staff.finance1[0])
    response = finance.get(f"/console/reports/payouts?scope=county&id={staff.county.id}"
                           "&year=2024&format=csv")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    foreign = as_user(app, staff.finance_b[0])
    assert foreign.get(f"/console/reports/payouts?scope=county&id={staff.county.id}"
                       "&year=2024&format=csv").status_code == 404


def test_swagger_ui_is_served_locally(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in html
    assert not OUTSIDE_HOST.search(html) and "cdn" not in html.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert client.get(f"/api/v1/docs/assets/{asset}").status_code == 200
    assert client.get("/api/v1/docs/assets/index.html").status_code == 404


def test_held_lines_get_an_account_and_the_bank_file_downloads(app, client, staff, db):
    from coop.payouts.models import PayoutLine
    from coop.payouts.services import Payee, create_batch
    batch = create_batch(db.session, None, county_id=staff.county.id, cooperative_id=None,
                         source="reward", source_id=77, year=2024, payees=[
                             Payee(payee_type="secretary", payee_name="李书记", amount_fen=150_000,
                                   cooperative_id=staff.coop.id, town_id=staff.coop.town_id)])
    db.session.commit()
    line = db.session.query(PayoutLine).filter_by(batch_id=batch.id).one()
    assert line.status == "held"
    page = f"/console/payout-batches/{batch.id}"
    finance = as_user(app, staff.finance1[0])
    html = finance.get(page).get_data(as_text=True)
    assert "暂缓（缺银行账户）" in html and f"/console/payout-lines/{line.id}/account" in html
    response = post_form(finance, page, f"/console/payout-lines/{line.id}/account",
                         bank_name="中国农业银行", bank_account="12")
    assert response.status_code == 422 and "银行账号有误" in response.get_data(as_text=True)
    response = post_form(finance, page, f"/console/payout-lines/{line.id}/account",
                         bank_name="中国农业银行", bank_account="6228480012345678")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(PayoutLine, line.id).status == "pending"
    response = finance.get(f"{page}/bank-file")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "6228480012345678" in response.get_data(as_text=True)
    reviewer = as_user(app, staff.reviewers["finance"][0])
    assert reviewer.get(f"{page}/bank-file").status_code == 403
    assert as_user(app, staff.finance_b[0]).get(f"{page}/bank-file").status_code == 404


def test_approving_less_than_asked(app, client, staff, db):
    program_id, app_id = application(client, staff)
    finance = as_user(app, staff.finance1[0])
    page = f"/console/subsidy-applications/{app_id}"
    response = post_form(finance, page, f"{page}/approve", amount="5,000,000")
    assert response.status_code == 422 and "批准金额不能超过申请金额" in response.get_data(
        as_text=True)
    assert post_form(finance, page, f"{page}/approve", amount="abc").status_code == 422
    assert post_form(finance, page, f"{page}/approve", amount="2,500.50").status_code == 303
    db.session.expire_all()
    assert db.session.get(SubsidyApplication, app_id).approved_amount_fen == 250_050
    assert db.session.get(Program, program_id).committed_fen == 250_050
    assert "2,500.50 元" in finance.get(page).get_data(as_text=True)


def test_a_bank_return_file_settles_the_lines_all_or_none(app, client, staff, db):
    import io
    from coop.payouts.models import PayoutLine
    from coop.payouts.services import Payee, create_batch
    batch = create_batch(db.session, None, county_id=staff.county.id, cooperative_id=None,
                         source="reward", source_id=78, year=2024, payees=[
                             Payee(payee_type="secretary", payee_name=name, amount_fen=fen,
                                   cooperative_id=staff.coop.id, town_id=staff.coop.town_id,
                                   bank_name="中国农业银行", bank_account_masked="****5678",
                                   bank_account_enc=crypto.encrypt("6228480012345678"))
                             for name, fen in (("李书记", 150_000), ("王书记", 90_000))])
    db.session.commit()
    lines = db.session.query(PayoutLine).filter_by(batch_id=batch.id).order_by(
        PayoutLine.id).all()
    page = f"/console/payout-batches/{batch.id}"
    finance = as_user(app, staff.finance1[0])
    today = clock.today().isoformat()

    def upload(text):
        return finance.post(f"{page}/results", content_type="multipart/form-data", data={
            "csrf_token": TOKEN.search(finance.get(page).get_data(as_text=True)).group(1),
            "file": (io.BytesIO(text.encode("utf-8-sig")), "回单.csv")})

    bad = f"行号,状态,银行流水号,支付日期\n{lines[0].id},成功,R1,{today}\n{lines[1].id},未知,R2,{today}\n"
    response = upload(bad)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "银行回单有误，未记录任何一行" in text and "第 3 行：状态须为 成功 或 失败" in text
    db.session.expire_all()
    assert {line.status for line in db.session.query(PayoutLine).filter_by(batch_id=batch.id)
            } == {"pending"}
    good = f"行号,状态,银行流水号,支付日期\n{lines[0].id},成功,R1,{today}\n{lines[1].id},失败,,{today}\n"
    assert upload(good).status_code == 303
    db.session.expire_all()
    assert [db.session.get(PayoutLine, line.id).status for line in lines] == ["paid", "failed"]
    assert "银行回单已导入" in finance.get(page).get_data(as_text=True)
