"""The opening register (期初股权登记): an existing cooperative's capital, loaded in one step.

A cooperative that comes into the system already has members holding capital. Entered one
subscription at a time, the single-member cap judges each intermediate register — where
the first few holders are always "over 20%" — so the order of entry decides what is
refused. Here the whole register is one upload: every row is checked first and a 422
names every bad row by its spreadsheet row number; the cap is checked once, on the final
register; and only a clean file is written, all rows or none, approved in the same step
by the manager who uploads it.

It is only for a register that is still empty (409 REGISTER_NOT_EMPTY otherwise): after
that, changes are share operations. It writes through the ledger's own machinery: the
register head is locked, each row becomes an approved `subscribe` operation with one
numbered line, the balances are rebuilt from the lines and members' statuses follow.

Columns (Chinese or English headers, a title row above is skipped, others ignored):
成员ID or 身份证号; 出资方式 (现金/货币, 土地, 集体资产, 财政补助, 劳务); one of 金额（元）,
面积（亩） (land: × the charter's rate per mu) or 劳务券 (labour: × the ticket rate);
生效日期; optionally 备注.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

import coop.audit as audit
import coop.crypto as crypto
import coop.spreadsheets as spreadsheets
from coop.dbtypes import utcnow
from coop.errors import Conflict, DomainError, RuleViolation, ValidationFailed
from coop.money import MoneyError, format_yuan, parse_yuan
from coop.registry import importer
from coop.registry.cooperatives import ensure_open
from coop.registry.models import Cooperative, Member
from coop.registry.people import compact
from coop.shares import ledger, rules
from coop.shares.models import OperationStatus, ShareLine, ShareOperation
from coop.shares.services import valuation
from coop.validators import past_date_problem

HEADERS = {
    "member_id": ("成员id", "成员编号id", "member_id"),
    "id_card_no": ("身份证号", "身份证号码", "证件号码", "统一社会信用代码", "id_card_no"),
    "kind": ("出资方式", "出资类型", "股金类型", "kind"),
    "amount": ("金额元", "金额", "出资额元", "出资额", "amount_yuan"),
    "area_mu": ("面积亩", "面积", "土地面积亩", "area_mu"),
    "tickets": ("劳务券", "劳务票", "劳务券张", "tickets"),
    "effective_on": ("生效日期", "出资日期", "effective_on"),
    "note": ("备注", "note"),
}
LABELS = {"member_id": "成员ID", "id_card_no": "身份证号", "kind": "出资方式",
          "amount": "金额（元）", "area_mu": "面积（亩）", "tickets": "劳务券",
          "effective_on": "生效日期", "note": "备注"}
KIND_WORDS = {
    "现金": "cash", "货币": "cash", "cash": "cash",
    "土地": "land", "土地经营权": "land", "land": "land",
    "集体资产": "collective_asset", "collective_asset": "collective_asset",
    "财政补助": "fiscal_subsidy", "财政补助资金": "fiscal_subsidy",
    "fiscal_subsidy": "fiscal_subsidy",
    "劳务": "labour", "labour": "labour",
}
VALUE_FIELDS = ("amount", "area_mu", "tickets")
NOTE = "期初股权登记"
MAX_NOTE = 255
SHOWN_ROWS = 20


@dataclass(frozen=True)
class Row:
    number: int
    member_id: int
    kind: str
    amount_fen: int
    area_mu: Decimal | None
    tickets: int | None
    effective_on: date
    note: str


def _header_key(cell) -> str | None:
    return spreadsheets.header_key(cell, HEADERS)


def read_rows(filename: str, data: bytes, limits: importer.Limits):
    """[(row number, {field: raw cell})] of every non-empty row under the header."""
    columns: dict[int, str] | None = None
    parsed = []
    bounds = spreadsheets.Bounds(max_bytes=limits.max_bytes, max_rows=limits.max_rows)
    for number, cells in enumerate(spreadsheets.rows(filename, data, bounds), start=1):
        if spreadsheets.is_blank(cells):
            continue
        if columns is None:
            found = {i: k for i, c in enumerate(cells) if (k := _header_key(c))}
            names = set(found.values())
            if names & {"member_id", "id_card_no"} and {"kind", "effective_on"} <= names \
                    and names & set(VALUE_FIELDS):
                columns = found
            elif number >= importer.HEADER_SEARCH_ROWS:
                break
            continue
        if len(parsed) >= limits.max_rows:
            raise RuleViolation(f"一次最多导入 {limits.max_rows} 行，请分批导入",
                                code="TOO_MANY_ROWS",
                                errors={"file": [f"超过 {limits.max_rows} 行"]})
        parsed.append((number, {field: cells[i] if i < len(cells) else None
                                for i, field in columns.items()}))
    if columns is None:
        raise ValidationFailed("找不到表头：须包含 成员ID 或 身份证号、出资方式、金额（元）或"
                               "面积（亩）或劳务券、生效日期 列",
                               errors={"file": ["缺少表头"]})
    if not parsed:
        raise ValidationFailed("文件中没有股权数据", errors={"file": ["没有数据行"]})
    return parsed



def _blank(value) -> bool:
    return spreadsheets.cell_text(value) == ""


class _Members:
    """The cooperative's members, read once: by id and by ID-card hash."""

    def __init__(self, session: Session, coop: Cooperative):
        rows = session.execute(
            select(Member.id, Member.id_card_hash, Member.member_type, Member.status,
                   Member.joined_on, Member.left_on)
            .where(Member.cooperative_id == coop.id)).all()
        self.by_id = {row.id: row for row in rows}
        self.by_hash = {row.id_card_hash: row for row in rows}

    def find(self, raw_id, raw_card, reasons: list[str]):
        by_id = by_card = None
        if not _blank(raw_id):
            text = spreadsheets.cell_text(raw_id)
            by_id = self.by_id.get(int(text)) if text.isdigit() and len(text) < 19 else None
            if by_id is None:
                reasons.append(f"成员ID：本社没有编号为“{text}”的成员")
                return None
        if not _blank(raw_card):
            number = compact(spreadsheets.cell_text(raw_card))
            by_card = self.by_hash.get(crypto.blind_index(number))
            if by_card is None:
                reasons.append("身份证号：本社成员名册中没有此人，请先导入成员名册")
                return None
        if by_id is None and by_card is None:
            reasons.append("成员ID 和 身份证号 至少填写一项")
            return None
        if by_id is not None and by_card is not None and by_id.id != by_card.id:
            reasons.append("成员ID 与 身份证号 不是同一成员")
            return None
        return by_id or by_card


def _value(cells: dict, reasons: list[str]):
    """(amount_fen, area_mu, tickets) as typed, exactly one of them given."""
    given = [f for f in VALUE_FIELDS if f in cells and not _blank(cells[f])]
    if len(given) != 1:
        reasons.append("金额（元）、面积（亩）、劳务券 须且只能填写一项")
        return None
    field = given[0]
    text = spreadsheets.cell_text(cells[field]).replace(",", "").replace("，", "")
    try:
        if field == "amount":
            return parse_yuan(text), None, None
        if field == "area_mu":
            area = Decimal(text)
            if not area.is_finite() or area <= 0 or area != area.quantize(Decimal("0.01")):
                raise ValueError
            return None, area, None
        if not text.isdigit() or len(text) > 9:
            raise ValueError
        return None, None, int(text)
    except (MoneyError, InvalidOperation, ValueError):
        reasons.append(f"{LABELS[field]}：无法识别的数值“{spreadsheets.cell_text(cells[field])}”")
        return None


def check_row(coop: Cooperative, members: _Members, number: int,
              cells: dict) -> tuple[Row | None, list[str]]:
    reasons: list[str] = []
    member = members.find(cells.get("member_id"), cells.get("id_card_no"), reasons)
    kind = KIND_WORDS.get(spreadsheets.cell_text(cells.get("kind")).lower())
    if kind is None:
        reasons.append("出资方式：应为 现金、土地、集体资产、财政补助 或 劳务")
    effective_on = None
    raw_day = cells.get("effective_on")
    try:
        effective_on = importer._parse_date(raw_day) if not _blank(raw_day) else None
    except (ValueError, OverflowError):
        reasons.append(f"生效日期：无法识别的日期“{raw_day}”，请用 2024-03-01 格式")
    else:
        if effective_on is None:
            reasons.append("生效日期：不能为空")
        elif (problem := past_date_problem(effective_on)) is not None:
            reasons.append(f"生效日期：{problem}")
            effective_on = None
    value = _value(cells, reasons)
    amount_fen = None
    if value is not None and kind is not None:
        try:
            amount_fen = valuation(coop, kind, *value)
        except DomainError as exc:
            reasons.append(exc.detail)
    note = spreadsheets.cell_text(cells.get("note")) or NOTE
    if len(note) > MAX_NOTE:
        reasons.append(f"备注：不能超过 {MAX_NOTE} 个字符")
    if member is not None and effective_on is not None:
        if member.status == "left" or member.joined_on > effective_on or (
                member.left_on is not None and member.left_on <= effective_on):
            reasons.append("该成员在生效日期不是本社成员（入社日期晚于生效日期，或已退社）")
    if member is not None and kind == "collective_asset" and member.member_type != "collective":
        reasons.append("集体资产股只能由村集体成员持有")
    if reasons:
        return None, reasons
    return Row(number, member.id, kind, amount_fen, value[1], value[2], effective_on, note), []


def _refuse(errors: dict[str, list[str]]) -> None:
    shown = "、".join(list(errors)[:SHOWN_ROWS]) + ("……" if len(errors) > SHOWN_ROWS else "")
    raise ValidationFailed(f"第 {shown} 行有误（共 {len(errors)} 行），未导入任何数据",
                           errors=errors)


def check_cap(session: Session, coop: Cooperative, rows: list[Row]) -> None:
    """The single-member cap, once, on the register the import leaves."""
    totals: dict[int, int] = defaultdict(int)
    for row in rows:
        totals[row.member_id] += row.amount_fen
    exempt = set() if coop.collective_cap_applies else ledger.collective_member_ids(session,
                                                                                   coop.id)
    over = rules.over_cap(totals, exempt, coop.single_member_cap_rate)
    if over:
        capital = sum(totals.values())
        raise RuleViolation(
            f"单一成员持股不得超过合作社股金总额的 {coop.single_member_cap_rate}"
            f"（导入后股金总额 {format_yuan(capital, thousands=True)} 元）",
            code="SINGLE_MEMBER_CAP_EXCEEDED",
            errors={"member_ids": sorted(over),
                    "rows": sorted({r.number for r in rows if r.member_id in over})})


def import_opening_register(session: Session, actor, coop: Cooperative, filename: str,
                            data: bytes, limits: importer.Limits) -> dict:
    """Load the opening register from the upload; all rows or none. Does not commit."""
    ensure_open(coop)
    head = ledger.lock_register(session, coop.id)
    if head.last_line_no:
        raise Conflict("本社股权登记簿已有记录，期初登记只能导入一次；之后的变动请逐笔登记",
                       code="REGISTER_NOT_EMPTY")
    parsed = read_rows(filename, data, limits)
    members = _Members(session, coop)
    rows, errors = [], {}
    for number, cells in parsed:
        row, reasons = check_row(coop, members, number, cells)
        if reasons:
            errors[str(number)] = reasons
        else:
            rows.append(row)
    if errors:
        _refuse(errors)
    result = write_opening(session, actor, coop, rows)
    audit.record(session, actor, "share_register.import", "cooperative", coop.id,
                 after={**result, "file": (filename or "")[:128],
                        "sha256": hashlib.sha256(data).hexdigest()})
    return result


def write_opening(session: Session, actor, coop: Cooperative, rows: list[Row]) -> dict:
    """Write checked rows as the opening register (the register head is locked and empty:
    import_opening_register, or the demo seed after lock_register). The cap is checked
    once, on the final register. Returns what was written."""
    check_cap(session, coop, rows)
    head = ledger.lock_register(session, coop.id)
    if head.last_line_no:
        raise Conflict("本社股权登记簿已有记录", code="REGISTER_NOT_EMPTY")
    now, by = utcnow(), getattr(actor, "id", None)
    operations = [ShareOperation(
        county_id=coop.county_id, cooperative_id=coop.id, member_id=row.member_id,
        type="subscribe", kind=row.kind, amount_fen=row.amount_fen, area_mu=row.area_mu,
        tickets=row.tickets, effective_on=row.effective_on, note=row.note,
        status=OperationStatus.APPROVED, created_by=by, decided_by=by, decided_at=now)
        for row in rows]
    session.add_all(operations)
    session.flush()
    first = head.last_line_no + 1
    session.add_all(ShareLine(county_id=coop.county_id, cooperative_id=coop.id,
                              line_no=first + offset, member_id=op.member_id,
                              operation_id=op.id, kind=op.kind, delta_fen=op.amount_fen,
                              effective_on=op.effective_on)
                    for offset, op in enumerate(operations))
    head.last_line_no += len(operations)
    session.flush()
    ledger.rebuild_balances(session, coop.id)
    member_ids = {row.member_id for row in rows}
    ledger.update_member_status(session, actor, coop.id, member_ids)
    total = sum(row.amount_fen for row in rows)
    return {"cooperative_id": coop.id, "imported": len(rows), "members": len(member_ids),
            "total_fen": total, "first_line_no": first, "last_line_no": head.last_line_no,
            "operation_ids": [operations[0].id, operations[-1].id]}
