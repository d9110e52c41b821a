"""Errors as RFC 9457 problem+json (CONTRACT §0), produced in one place.

Services raise DomainError subclasses with a machine `code` and a Chinese `detail`; this
module turns them, and every HTTP error Flask or webargs raises, into the contract's body.
"""
from __future__ import annotations

import logging
import re
from http import HTTPStatus

from flask import Flask, g, jsonify
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("coop.errors")

PROBLEM_JSON = "application/problem+json"

# Machine code and Chinese detail for each status when nothing more specific is known.
DEFAULT_CODES = {
    400: ("MALFORMED_REQUEST", "请求格式错误，无法解析"),
    401: ("AUTH_REQUIRED", "请先登录"),
    403: ("FORBIDDEN", "您的角色无权执行此操作"),
    404: ("NOT_FOUND", "对象不存在或不在您的权限范围内"),
    405: ("METHOD_NOT_ALLOWED", "不支持该请求方法"),
    406: ("NOT_ACCEPTABLE", "无法提供所请求的格式"),
    409: ("STATE_CONFLICT", "当前状态不允许此操作，或操作与其他请求冲突"),
    413: ("PAYLOAD_TOO_LARGE", "请求内容过大"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "不支持的内容类型"),
    422: ("VALIDATION_FAILED", "提交的数据未通过校验"),
    429: ("RATE_LIMITED", "请求过于频繁，请稍后再试"),
    500: ("INTERNAL_ERROR", "服务器内部错误，请联系管理员并提供请求编号"),
    503: ("SERVICE_UNAVAILABLE", "服务暂不可用，请稍后再试"),
}


class DomainError(Exception):
    """A business-rule failure the caller can act on. Subclasses fix status and code."""

    status = 422
    code = "VALIDATION_FAILED"

    def __init__(self, detail: str | None = None, *, code: str | None = None,
                 errors: dict | None = None, status: int | None = None, headers=None,
                 keep_writes: bool = False):
        self.status = status or self.status
        self.code = code or self.code
        self.detail = detail or DEFAULT_CODES.get(self.status, ("", "请求失败"))[1]
        self.errors = errors
        self.headers = headers or {}
        # A refusal that must leave a trace (a stolen refresh token revokes its family):
        # the unit of work commits what was written before the refusal.
        self.keep_writes = keep_writes
        super().__init__(f"{self.code}: {self.detail}")


class ValidationFailed(DomainError):
    status, code = 422, "VALIDATION_FAILED"


class RuleViolation(DomainError):
    """422 with a business-rule code from the contract (INSUFFICIENT_SHARES, …)."""
    status = 422


class NotFound(DomainError):
    status, code = 404, "NOT_FOUND"


class Forbidden(DomainError):
    status, code = 403, "FORBIDDEN"


class Unauthorized(DomainError):
    status, code = 401, "AUTH_REQUIRED"


class Conflict(DomainError):
    status, code = 409, "STATE_CONFLICT"


class TooLarge(DomainError):
    status, code = 413, "PAYLOAD_TOO_LARGE"


class ServiceUnavailable(DomainError):
    status, code = 503, "SERVICE_UNAVAILABLE"


# Marshmallow's and webargs' own messages, in Chinese. Every field message goes through
# `chinese()` when the problem body is built, so a schema never needs a per-field
# error_messages, and a message nobody translated still reaches the client in Chinese.
_NUMBER = r"(-?[0-9][0-9.,eE+\-]*)"
_TRANSLATIONS: tuple[tuple[re.Pattern, str], ...] = tuple(
    (re.compile(pattern + r"\Z"), chinese) for pattern, chinese in (
        (r"Missing data for required field\.", "必填"),
        (r"Unknown field\.", "不允许的字段"),
        (r"Field may not be null\.", "不能为 null"),
        (r"Invalid value\.", "取值无效"),
        (r"Invalid type\.", "类型错误"),
        (r"Invalid input type\.", "类型错误，须为对象"),
        (r"Not a valid integer\.", "须为整数"),
        (r"Not a valid number\.", "须为数字"),
        (r"Number too large\.", "数值过大"),
        (r"Special numeric values \(nan or infinity\) are not permitted\.", "不接受 NaN 或无穷大"),
        (r"Not a valid string\.", "须为字符串"),
        (r"Not a valid utf-8 string\.", "须为 UTF-8 字符串"),
        (r"Not a valid boolean\.", "须为 true 或 false"),
        (r"Not a valid list\.", "须为数组"),
        (r"Not a valid tuple\.", "须为数组"),
        (r"Not a valid mapping type\.", "须为对象"),
        (r"Not a valid date\.", "须为日期（YYYY-MM-DD）"),
        (r"Not a valid (naive |aware )?datetime\.", "须为日期时间（ISO 8601）"),
        (r"Not a valid (naive |aware )?time\.", "须为时间"),
        (r"Not a valid UUID\.", "须为 UUID"),
        (r"Not a valid email address\.", "须为电子邮件地址"),
        (r"Not a valid URL\.", "须为网址"),
        (r"Not a valid period of time\.", "须为时长"),
        (r"Must be one of: (.*)\.", r"须为以下之一：\1"),
        (r"Must be greater than or equal to " + _NUMBER + " and less than or equal to "
         + _NUMBER + r"\.", r"须在 \1 到 \2 之间"),
        (r"Must be greater than " + _NUMBER + " and less than " + _NUMBER + r"\.",
         r"须大于 \1 且小于 \2"),
        (r"Must be greater than or equal to " + _NUMBER + r"\.", r"须不小于 \1"),
        (r"Must be greater than " + _NUMBER + r"\.", r"须大于 \1"),
        (r"Must be less than or equal to " + _NUMBER + r"\.", r"须不大于 \1"),
        (r"Must be less than " + _NUMBER + r"\.", r"须小于 \1"),
        (r"Length must be between ([0-9]+) and ([0-9]+)\.", r"长度须在 \1 到 \2 之间"),
        (r"Length must be ([0-9]+)\.", r"长度须为 \1"),
        (r"Shorter than minimum length ([0-9]+)\.", r"长度不能少于 \1"),
        (r"Longer than maximum length ([0-9]+)\.", r"长度不能超过 \1"),
        (r"String does not match expected pattern\.", "格式不正确"),
        (r"Invalid JSON body\.", "请求体不是合法的 JSON"),
        (r"Invalid enum (member|value) .*", "取值无效"),
    ))
_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def chinese(messages):
    """The same structure of field messages, every message in Chinese. A message with
    no Chinese in it that is not in the table becomes the generic 取值无效 rather than
    reach a villager in English."""
    if isinstance(messages, dict):
        return {key: chinese(value) for key, value in messages.items()}
    if isinstance(messages, (list, tuple)):
        return [chinese(m) for m in messages]
    if not isinstance(messages, str) or _CJK.search(messages):
        return messages
    for pattern, replacement in _TRANSLATIONS:
        if pattern.match(messages):
            return pattern.sub(replacement, messages)
    return "取值无效"


def problem(status: int, code: str | None = None, detail: str | None = None,
            errors: dict | None = None, headers: dict | None = None):
    """Build a problem+json response."""
    default_code, default_detail = DEFAULT_CODES.get(status, ("ERROR", "请求失败"))
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code or default_code,
        # A detail is Chinese (CONTRACT §0); an English one (a library's) is replaced.
        "detail": detail if detail and _CJK.search(detail) else default_detail,
    }
    if errors:
        body["errors"] = chinese(errors)
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _webargs_errors(exc: HTTPException) -> dict | None:
    """webargs puts {location: {field: [messages]}} on exc.data; flatten the locations."""
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if not isinstance(messages, dict):
        return None
    flat: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat or None


def problem_for_exception(exc: Exception):
    """The response the contract prescribes for any exception a view raises."""
    if isinstance(exc, DomainError):
        return problem(exc.status, exc.code, exc.detail, exc.errors, exc.headers)
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        headers = {}
        if status == 405 and getattr(exc, "valid_methods", None):
            headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        errors = _webargs_errors(exc)
        if status == 400 and errors:
            # webargs reports a body that is not JSON as a 400 on the "json" location.
            return problem(400, "MALFORMED_REQUEST", "请求体不是合法的 JSON", errors)
        retry_after = getattr(exc, "retry_after", None)
        if status == 429:
            headers["Retry-After"] = str(int(retry_after or 60))
        return problem(status, errors=errors, headers=headers)
    refusal = database_refusal(exc)
    if refusal is not None:
        return problem_for_exception(refusal)
    log.exception("unhandled error", extra={"request_id": g.get("request_id")})
    return problem(500)


# MySQL/MariaDB error numbers.
# 1213: deadlock — and Galera's certification failure, at any statement or at COMMIT.
#       The server has rolled the whole transaction back; running it again may succeed.
RETRYABLE_CODES = frozenset({1213})
# 1205: lock wait timeout (innodb_lock_wait_timeout, 50 s by default). The request has
#       already waited most of gunicorn's 60 s: a retry would outlive the worker. 409.
LOCK_CONFLICT_CODES = RETRYABLE_CODES | {1205}
# The node cannot serve at all: 1047 "WSREP has not yet prepared node for application
# use" (a node outside the primary component, or still joining), 1053 server shutdown,
# 1927 connection killed, 2002/2003 cannot connect, 2006 gone away, 2013 lost connection.
# On the same node a retry will not help; 503 tells the entry point and the client to
# go elsewhere (with an Idempotency-Key a money POST's retry is safe).
UNAVAILABLE_CODES = frozenset({1047, 1053, 1927, 2002, 2003, 2006, 2013})


def database_refusal(exc: BaseException) -> DomainError | None:
    """What a database error that is no fault of the request means to its caller: a lost
    conflict (already retried by coop/transaction.py, or not worth retrying) is 409, a
    node that cannot serve is 503; None for any other error."""
    if is_lock_conflict(exc):
        return Conflict("操作与其他请求冲突，未做任何更改，请重试")
    if is_database_unavailable(exc):
        # The error number only: no statement, no parameters (a payee's account) in a log.
        log.warning("database unavailable", extra={"db_error": db_error_code(exc)})
        return ServiceUnavailable("数据库节点暂不可用，请稍后重试", headers={"Retry-After": "1"})
    return None


def db_error_code(exc: BaseException) -> int | None:
    """The MySQL error number of a database error (SQLAlchemy's or the driver's)."""
    orig = getattr(exc, "orig", exc)
    args = getattr(orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def is_retryable(exc: BaseException) -> bool:
    """The database refused the transaction for a conflict it has rolled back whole
    (a deadlock, a Galera certification failure): running it again may succeed."""
    return isinstance(exc, DBAPIError) and db_error_code(exc) in RETRYABLE_CODES


def is_lock_conflict(exc: BaseException) -> bool:
    # 1213 and 1205 (MySQL); "database is locked" (SQLite, after its 30 s busy timeout)
    if not isinstance(exc, DBAPIError):
        return False
    return db_error_code(exc) in LOCK_CONFLICT_CODES or "database is locked" in str(exc)


def is_database_unavailable(exc: BaseException) -> bool:
    """The node cannot serve (a wsrep error that is not a conflict, a lost server)."""
    if not isinstance(exc, DBAPIError) or is_lock_conflict(exc):
        return False
    return (db_error_code(exc) in UNAVAILABLE_CODES
            or "WSREP" in str(getattr(exc, "orig", "")).upper())


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(Exception, problem_for_exception)
