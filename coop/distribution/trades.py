"""Trades (交易量/额): the basis of the patronage return, entered as JSON or a spreadsheet.

An import is all rows or none: every row is checked first and the errors come back
together, keyed by row (the array index for JSON, the sheet's row number for a file,
whose header is row 1). A spreadsheet names the member by 成员ID, or by 身份证号
(with 姓名 checked against it when both are given), or by 姓名 alone when that name is
unique in the cooperative; the amount is 金额(元) in yuan or amount_fen in fen.
A negative amount is a correcting entry; a member's yearly total may not go below zero.
"""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

import coop.clock as clock
import coop.audit as audit
import coop.crypto as crypto
import coop.spreadsheets as spreadsheets
from coop.distribution.models import Trade
from coop.distribution.services import lock_open_year
from coop.errors import TooLarge, ValidationFailed
from coop.money import MAX_FEN, MoneyError, parse_yuan
from coop.registry.models import Cooperative, Member
from coop.validators import past_date_problem

MAX_ROWS = 20_000
MAX_COLUMNS = 40
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # MAX_CONTENT_LENGTH refuses larger bodies first
MAX_NOTE = 255
# Column headers a spreadsheet may use for each field (first match wins).
HEADERS = {
    "member_id": ("成员ID", "成员id", "成员编号", "member_id"),
    "id_card_no": ("身份证号", "身份证号码", "id_card_no"),
    "name": ("姓名", "成员姓名", "name"),
    "amount_yuan": ("金额(元)", "金额（元）", "金额", "交易额(元)", "交易额（元）", "amount_yuan"),
    "amount_fen": ("amount_fen", "金额(分)", "金额（分）"),
    "occurred_on": ("日期", "交易日期", "occurred_on"),
    "note": ("备注", "note"),
}
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


class RowErrors:
    """Collects {row: {field: [messages]}} for an all-or-nothing import."""

    def __init__(self):
        self.errors: dict[str, dict[str, list[str]]] = {}

    def add(self, row, field: str, message: str) -> None:
        self.errors.setdefault(str(row), {}).setdefault(field, []).append(message)

    def raise_if_any(self, detail: str) -> None:
        if self.errors:
            raise ValidationFailed(detail, errors=self.errors)


def import_trades(session: Session, actor, coop: Cooperative, year: int,
                  rows: list[tuple[str, dict]]) -> list[Trade]:
    """Store trades `[(row_label, {member_id, amount_fen, occurred_on, note})]` for `year`.

    Members must belong to the cooperative; dates must lie in `year` and not in the
    future. 409 once the year's plan is approved (the figures are final).
    """
    lock_open_year(session, coop.id, year)
    if not rows:
        raise ValidationFailed("没有交易记录", errors={"rows": ["至少需要一行"]})
    if len(rows) > MAX_ROWS:
        raise TooLarge(f"一次最多导入 {MAX_ROWS} 行交易")
    member_ids = set(session.execute(select(Member.id).where(
        Member.cooperative_id == coop.id)).scalars())
    errors, today = RowErrors(), clock.today()
    added: dict[int, int] = defaultdict(int)
    for label, row in rows:
        if row["member_id"] not in member_ids:
            errors.add(label, "member_id", "成员不属于本合作社")
        day = row["occurred_on"]
        if day.year != year:
            errors.add(label, "occurred_on", f"日期须在 {year} 年内")
        elif (problem := past_date_problem(day, today)) is not None:
            errors.add(label, "occurred_on", f"日期{problem}")
        if not -MAX_FEN <= row["amount_fen"] <= MAX_FEN:
            errors.add(label, "amount_fen", "金额超出范围")
        added[row["member_id"]] += row["amount_fen"]
    errors.raise_if_any("交易记录有误，未导入任何一行")
    _refuse_negative_totals(session, coop.id, year, added, rows)
    values = [{"county_id": coop.county_id, "cooperative_id": coop.id, "year": year,
               "member_id": row["member_id"], "amount_fen": row["amount_fen"],
               "occurred_on": row["occurred_on"], "note": row.get("note") or None,
               "created_by": getattr(actor, "id", None)} for _, row in rows]
    session.execute(insert(Trade), values)
    audit.record(session, actor, "trades.import", "cooperative", coop.id,
                 after={"year": year, "rows": len(values),
                        "amount_fen": sum(v["amount_fen"] for v in values)})
    return values


def _refuse_negative_totals(session: Session, cooperative_id: int, year: int,
                            added: dict[int, int], rows) -> None:
    existing = dict(session.execute(
        select(Trade.member_id, func.sum(Trade.amount_fen))
        .where(Trade.cooperative_id == cooperative_id, Trade.year == year,
               Trade.member_id.in_(list(added)))
        .group_by(Trade.member_id)).all())
    errors = RowErrors()
    negative = {m for m, amount in added.items() if int(existing.get(m) or 0) + amount < 0}
    for label, row in rows:
        if row["member_id"] in negative and row["amount_fen"] < 0:
            errors.add(label, "amount_fen", "冲正后该成员本年度交易额将小于零")
    errors.raise_if_any("交易记录有误，未导入任何一行")


# ---- spreadsheets ---------------------------------------------------------------------

def rows_from_file(session: Session, coop: Cooperative, filename: str,
                   content: bytes) -> list[tuple[str, dict]]:
    """Parse an uploaded .csv or .xlsx into import rows, or 422 with row errors."""
    name = (filename or "").lower()
    if not name.endswith((".csv", ".xlsx")):
        raise ValidationFailed("只接受 .csv 或 .xlsx 文件", errors={"file": ["扩展名须为 .csv 或 .xlsx"]})
    # The one bounded reader: rows, cells, inflated size and time (coop/spreadsheets.py).
    table = spreadsheets.table(name, content, spreadsheets.Bounds(
        max_bytes=MAX_UPLOAD_BYTES, max_rows=MAX_ROWS, max_columns=MAX_COLUMNS))
    if not table:
        raise ValidationFailed("文件为空", errors={"file": ["没有表头"]})
    columns = _columns(table[0])
    body = [(n, r) for n, r in enumerate(table[1:], start=2)
            if any(c not in (None, "") for c in r)]
    if len(body) > MAX_ROWS:
        raise TooLarge(f"一次最多导入 {MAX_ROWS} 行交易")
    resolve = _MemberResolver(session, coop.id)
    errors, rows = RowErrors(), []
    for number, raw in body:
        cell = {field: raw[i] if i < len(raw) else None for field, i in columns.items()}
        row = {"member_id": resolve(number, cell, errors),
               "amount_fen": _amount(number, cell, errors),
               "occurred_on": _date(number, cell.get("occurred_on"), errors),
               "note": spreadsheets.cell_text(cell.get("note"))}
        if len(row["note"]) > MAX_NOTE:
            errors.add(number, "备注", f"不能超过 {MAX_NOTE} 个字符")
        rows.append((str(number), row))
    errors.raise_if_any("文件中有错误，未导入任何一行")
    return rows


def _columns(header: list) -> dict[str, int]:
    names = [spreadsheets.cell_text(h).replace(" ", "") for h in header]
    columns = {}
    for field, aliases in HEADERS.items():
        for alias in aliases:
            if alias in names:
                columns[field] = names.index(alias)
                break
    missing = []
    if not {"member_id", "id_card_no", "name"} & set(columns):
        missing.append("成员ID、身份证号或姓名")
    if not {"amount_yuan", "amount_fen"} & set(columns):
        missing.append("金额(元)")
    if "occurred_on" not in columns:
        missing.append("日期")
    if missing:
        raise ValidationFailed("表头缺少必需的列", errors={"header": [f"缺少列：{m}" for m in missing]})
    return columns



class _MemberResolver:
    """Finds the member a row means, inside one cooperative only."""

    def __init__(self, session: Session, cooperative_id: int):
        rows = session.execute(select(Member.id, Member.name, Member.id_card_hash)
                               .where(Member.cooperative_id == cooperative_id)).all()
        self.name_of = {r.id: r.name for r in rows}
        self.by_card = {r.id_card_hash: r.id for r in rows}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        for r in rows:
            self.by_name[r.name].append(r.id)

    def __call__(self, number: int, cell: dict, errors: RowErrors) -> int:
        raw_id, card, name = (spreadsheets.cell_text(cell.get(k))
                              for k in ("member_id", "id_card_no", "name"))
        if raw_id:
            if not raw_id.isdigit() or int(raw_id) not in self.name_of:
                errors.add(number, "成员ID", "成员不属于本合作社")
                return 0
            return int(raw_id)
        if card:
            member_id = self.by_card.get(crypto.blind_index(card.upper()))
            if member_id is None:
                errors.add(number, "身份证号", "本合作社没有该身份证号的成员")
            elif name and self.name_of[member_id] != name:
                errors.add(number, "姓名", "姓名与身份证号不符")
            return member_id or 0
        matches = self.by_name.get(name, [])
        if len(matches) != 1:
            errors.add(number, "姓名", "没有该姓名的成员" if not matches
                       else "有多名同名成员，请填写成员ID或身份证号")
            return 0
        return matches[0]


def _amount(number: int, cell: dict, errors: RowErrors) -> int:
    raw_fen = spreadsheets.cell_text(cell.get("amount_fen"))
    raw_yuan = spreadsheets.cell_text(cell.get("amount_yuan"))
    try:
        if raw_fen:
            if not re.fullmatch(r"-?[0-9]{1,18}", raw_fen):  # ASCII: int() reads "１２" too
                raise MoneyError(raw_fen)
            fen = int(raw_fen)
        elif raw_yuan:
            fen = parse_yuan(raw_yuan)
        else:
            errors.add(number, "金额(元)", "不能为空")
            return 0
    except MoneyError:
        errors.add(number, "金额(元)", "不是合法金额（最多两位小数）")
        return 0
    if not -MAX_FEN <= fen <= MAX_FEN:
        errors.add(number, "金额(元)", "金额超出范围")
        return 0
    return fen


def _date(number: int, value, errors: RowErrors) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = _DATE.match(spreadsheets.cell_text(value))
    if match:
        try:
            return date(*(int(g) for g in match.groups()))
        except ValueError:
            pass
    errors.add(number, "日期", "日期格式应为 YYYY-MM-DD")
    return date.min
