"""What a WeChat subscribe message shows, in the form WeChat accepts.

A notification keeps its values by meaning (`fields`: task, subject, item, result,
amount_fen, at, on, until, note). A template configured in the WeChat console names its
keywords by type and number (`thing1`, `amount2`, `time3`…): the layout of each event
maps keywords to meanings. The defaults below fit the templates docs/notifications.md
says to apply for; a template whose keywords are numbered otherwise is mapped with
`WECHAT_TEMPLATE_FIELDS` (`{"task_created": {"thing2": "task", "time5": "at"}}`).

Each value is cut to its type's limit, as WeChat refuses the whole message (47003) for
one value too long: `thing` ≤ 20 characters, `name` ≤ 10 (20 if only Latin letters),
`phrase` ≤ 5, `character_string`/`number`/`letter` ≤ 32, `amount` digits with 元, `time`
and `date` as 2024年7月1日 15:01 / 2024年7月1日 in China's clock.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime

import coop.clock as clock

DEFAULT_LAYOUTS: dict[str, dict[str, str]] = {
    "task_created": {"thing1": "task", "thing2": "subject", "time3": "at"},
    "application_decided": {"thing1": "item", "phrase2": "result", "amount3": "amount_fen",
                            "time4": "at", "thing5": "note"},
    "disbursement_made": {"thing1": "item", "amount2": "amount_fen", "date3": "on",
                          "thing4": "subject"},
    "notice_published": {"thing1": "subject", "thing2": "item", "time3": "until"},
    "payout_paid": {"thing1": "subject", "amount2": "amount_fen", "date3": "on",
                    "thing4": "item"},
    "payout_failed": {"thing1": "subject", "amount2": "amount_fen", "thing3": "note",
                      "time4": "at"},
}
LIMITS = {"thing": 20, "phrase": 5, "character_string": 32, "number": 32, "letter": 32,
          "symbol": 5, "car_number": 8, "phone_number": 17}
ELLIPSIS = "…"
_TYPE = re.compile(r"^([a-z_]+?)\d*$")
_ASCII_NAME = re.compile(r"^[A-Za-z .·_\-]+$")


def layout(template_key: str, overrides: dict | None) -> dict[str, str]:
    return (overrides or {}).get(template_key) or DEFAULT_LAYOUTS[template_key]


def cut(text: str, limit: int) -> str:
    text = " ".join(str(text).split())      # WeChat shows one line; newlines are refused
    return text if len(text) <= limit else text[:limit - 1] + ELLIPSIS


def wechat_date(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def wechat_time(moment: datetime) -> str:
    local = clock.china_time(moment)
    return f"{wechat_date(local.date())} {local:%H:%M}"


def amount(fen: int) -> str:
    """`1234.50元`: digits, a decimal point and the unit; no thousands separator (WeChat's
    amount allows ten digits: above 99,999,999.99 yuan the fen are dropped)."""
    sign = "-" if fen < 0 else ""
    yuan, rest = divmod(abs(int(fen)), 100)
    digits = f"{yuan}{rest:02d}"
    return f"{sign}{yuan}元" if len(digits) > 10 else f"{sign}{yuan}.{rest:02d}元"


def _moment(value) -> datetime | date:
    if isinstance(value, (datetime, date)):
        return value
    text = str(value)
    return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)


def format_value(keyword: str, value) -> str:
    """`value` shown as WeChat wants a keyword of `keyword`'s type."""
    kind = _TYPE.match(keyword).group(1) if _TYPE.match(keyword) else keyword
    if value is None or (isinstance(value, str) and not value.strip()):
        value = "无" if kind in ("thing", "phrase", "name") else "-"
    if kind == "amount":
        return amount(value) if isinstance(value, int) else cut(value, 11)
    if kind in ("time", "date"):
        try:
            moment = _moment(value)
        except ValueError:
            return cut(value, 20)
        if isinstance(moment, datetime):
            return wechat_time(moment) if kind == "time" else wechat_date(
                clock.china_time(moment).date())
        return wechat_date(moment)
    if kind == "name":
        text = " ".join(str(value).split())
        return cut(text, 20 if _ASCII_NAME.match(text) else 10)
    return cut(value, LIMITS.get(kind, 20))


def render(template_key: str, fields: dict | str, overrides: dict | None = None) -> dict:
    """The `data` of subscribeMessage.send: {keyword: {"value": text}}."""
    values = json.loads(fields) if isinstance(fields, str) else fields
    return {keyword: {"value": format_value(keyword, values.get(meaning))}
            for keyword, meaning in layout(template_key, overrides).items()}
