"""The one JSON parser for request bodies, and the hook that runs it before any view.

Python's `json.loads` accepts what no client of ours sends and fails in ways the error
handler cannot tell from a bug: 1,000 nested arrays raise RecursionError, a 5,000-digit
number ValueError (Python's int-from-text limit), `NaN`/`1e999` become floats no column
can hold, and `{"amount_fen": 1, "amount_fen": 100}` silently keeps the last value (one
proxy or log may read the first). Here every one of those is a 400 MALFORMED_REQUEST in
the contract's format; a string holding a control character, a bidi override or another
invisible character is a 422 naming its field. Both are raised in `before_request` — so
on every route, the unauthenticated `/auth/login` included, before the view, the rate
limiter or the unit of work runs.

The app's JSON provider (`coop/__init__.py`) loads with `loads()` too, so
`request.get_json()` and webargs (coop/api.py) see only what passed here; the parsed body
is cached on the request and not parsed twice.
"""
from __future__ import annotations

import json
import math

from flask import Flask, Request, request

from coop.errors import DomainError, ValidationFailed
from coop.validators import text_problem

# Our deepest legitimate body is an array of objects holding a list: 3 levels. 32 leaves
# room for any client wrapper and stays far below the interpreter's recursion limit.
MAX_DEPTH = 32
# BIGINT is 19 digits; an id or an amount longer than that is an error either way, but a
# number of up to 64 digits is still parsed so the field can say which one is too large.
MAX_NUMBER_CHARS = 64


class MalformedJSON(DomainError, ValueError):
    """A body that is not acceptable JSON. A ValueError, so `request.get_json(silent=True)`
    in a view treats it as unparsable; a DomainError, so it answers 400 in our format."""

    status, code = 400, "MALFORMED_REQUEST"


def _pairs(pairs: list) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise MalformedJSON(f"请求体中字段重复：{dup}")
    return obj


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise MalformedJSON("请求体中的数字过长")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise MalformedJSON("请求体中的数字过长")
    value = float(text)
    if not math.isfinite(value):
        raise MalformedJSON("请求体中的数字超出范围")
    return value


def _constant(name: str):
    raise MalformedJSON(f"请求体不是合法的 JSON（不接受 {name}）")


def _check(value) -> None:
    """Depth and text of every string, key or value. Iterative, so a deep value cannot
    exhaust the stack here either."""
    stack = [(value, ())]
    while stack:
        item, path = stack.pop()
        if len(path) >= MAX_DEPTH:
            raise MalformedJSON(f"请求体嵌套过深（最多 {MAX_DEPTH} 层）")
        if isinstance(item, dict):
            for key, v in item.items():
                _check_text(key, path + (key,))
                stack.append((v, path + (key,)))
        elif isinstance(item, list):
            stack.extend((v, path + (i,)) for i, v in enumerate(item))
        elif isinstance(item, str):
            _check_text(item, path)


def _check_text(text: str, path: tuple) -> None:
    """No control, invisible or bidi characters in any text of any body (names, bank
    names, notes, identifiers): refused here once rather than in each schema."""
    problem = text_problem(text)
    if problem is None:
        return
    errors: dict = {"_schema": [problem]}
    if path:
        errors = [problem]
        for key in reversed(path):
            errors = {key: errors}
    raise ValidationFailed(f"提交的文本{problem}", errors=errors)


def loads(data: str | bytes | bytearray, **_ignored):
    """Parse a request body strictly, or raise MalformedJSON (400)."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedJSON("请求体不是 UTF-8 编码的 JSON") from exc
    if data.startswith("\ufeff"):
        data = data[1:]
    try:
        value = json.loads(data, object_pairs_hook=_pairs, parse_int=_int,
                           parse_float=_float, parse_constant=_constant)
    except MalformedJSON:
        raise
    except RecursionError as exc:
        raise MalformedJSON(f"请求体嵌套过深（最多 {MAX_DEPTH} 层）") from exc
    except ValueError as exc:  # JSONDecodeError, and int()'s digit limit
        raise MalformedJSON("请求体不是合法的 JSON") from exc
    _check(value)
    return value


class StrictRequest(Request):
    """A body that fails `loads()` raises its own 400, not werkzeug's English one."""

    def on_json_loading_failed(self, e):
        if isinstance(e, MalformedJSON):
            raise e
        raise MalformedJSON("请求体不是合法的 JSON") from e


def init_app(app: Flask) -> None:
    app.request_class = StrictRequest

    @app.before_request
    def _parse_json_body():
        # Every JSON body, on every route: parsed (and cached) or refused here. A view
        # that reads the body with force=True (a JSON array upload) parses it with the
        # same loads() through the app's JSON provider.
        if request.is_json and request.get_data(cache=True):
            request.get_json(cache=True)
