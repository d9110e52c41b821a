"""The county console (CONTRACT §11): server-rendered pages in Chinese at /console/ for
county staff, on the same policy layer and services as the API.

`init_app` registers the pages (coop/console/views.py), the cookie session with its CSRF
check and idle timeout (coop/console/session.py), the security headers (a strict
Content-Security-Policy: every script, style and font is the app's own, nothing inline),
the error pages, and Swagger UI's assets served locally (coop/console/swagger.py).
"""
from __future__ import annotations

import logging
from datetime import date, datetime

from flask import Flask, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

import coop.clock as clock
import coop.console.session as session
from coop.console.views import bp
from coop.errors import DomainError, Unauthorized, database_refusal
from coop.money import format_yuan

log = logging.getLogger("coop.console")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")

STATUS_NAMES = {
    "submitted": "待审批", "approved": "已批准", "rejected": "已驳回", "disbursed": "已拨付",
    "draft": "草稿", "cancelled": "已撤销", "open": "进行中", "closed": "已结束",
    "pending": "待发放", "paid": "已发放", "failed": "发放失败", "reversed": "冲正",
    "held": "暂缓（缺银行账户）", "active": "运营中", "standardized": "规范化",
    "shell": "空壳", "merged": "已合并", "transformed": "已转型",
    "excellent": "优秀", "good": "良好", "pass": "合格", "fail": "不合格",
}
DEPARTMENT_NAMES = {"organization": "组织部门", "finance": "财政部门",
                    "agriculture": "农业农村部门"}
KIND_NAMES = {"award": "优秀合作社奖励", "secretary": "村党组织书记提成",
              "manager": "管理人员提成"}
SOURCE_NAMES = {"distribution": "盈余分配", "reward": "奖励", "subsidy": "补助"}


def yuan(fen) -> str:
    """12345678 → '123,456.78 元' (amounts are fen everywhere but on the screen)."""
    if fen is None:
        return "—"
    return f"{format_yuan(int(fen), thousands=True)} 元"


def moment(value) -> str:
    """A timestamp or date as people read it, in China time: 2026年12月14日 06:36."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return clock.format_moment(value)
    if isinstance(value, date):
        return value.strftime("%Y年%m月%d日")
    return str(value)


def _before():
    session.begin()


def _after(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return session.save(response)


def _error_page(exc: Exception):
    """Every refusal as a page: not logged in → the login page; a rule's refusal in the
    service's own Chinese words (the unit of work has already rolled everything back)."""
    exc = database_refusal(exc) or exc   # a lost conflict 409, a node down 503: not 500
    if isinstance(exc, Unauthorized):
        if g.get("console_expired"):
            return redirect(url_for("console.login", expired=1), code=303)
        target = request.full_path.rstrip("?") if request.method == "GET" else ""
        return redirect(url_for("console.login", next=target or None), code=303)
    if isinstance(exc, DomainError):
        status, code, detail = exc.status, exc.code, exc.detail
        errors = exc.errors
    elif isinstance(exc, HTTPException):
        status, code, detail, errors = exc.code or 500, None, None, None
    else:
        log.exception("console error", extra={"request_id": g.get("request_id")})
        status, code, detail, errors = 500, None, None, None
    if "console" not in g:   # the error came before the session was read
        g.console = {}
    return render_template("console/error.html", status=status, code=code, detail=detail,
                           errors=errors, back=request.referrer
                           if (request.referrer or "").startswith(request.host_url) else None,
                           method=request.method), status


bp.before_request(_before)
bp.after_request(_after)
bp.register_error_handler(Exception, _error_page)
bp.add_app_template_filter(yuan, "yuan")
bp.add_app_template_filter(moment, "moment")
bp.add_app_template_global(session.csrf_token, "csrf_token")
bp.add_app_template_global(session.pop_flash, "pop_flash")
bp.add_app_template_global(lambda: clock.today().year, "now_year")
bp.add_app_template_filter(lambda fen: format_yuan(int(fen)), "yuan_plain")   # form values
# Charts are drawn in whole yuan: a picture, not an amount anyone reads to the fen.
bp.add_app_template_filter(lambda fen: int(fen) // 100, "yuan_whole")
for _name, _table in (("status_name", STATUS_NAMES), ("department_name", DEPARTMENT_NAMES),
                      ("kind_name", KIND_NAMES), ("source_name", SOURCE_NAMES)):
    bp.add_app_template_filter(lambda v, t=_table: t.get(v, v), _name)


def init_app(app: Flask) -> None:
    """Called by create_app for every app (the tests build several): registration only."""
    import coop.console.swagger as swagger
    app.register_blueprint(bp)
    app.register_blueprint(swagger.bp)
