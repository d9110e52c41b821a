"""Member import from the spreadsheet the village already keeps (.csv or .xlsx).

All rows or none: every row is checked first (fields, duplicates within the file and
against the register, the single collective member), and a 422 lists every bad row by
its spreadsheet row number. Only a clean file is written, in one bulk INSERT.

Headers may be Chinese or English (姓名/name …); a title row above the header is
skipped; unknown columns (序号, 备注 …) are ignored.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import coop.audit as audit
import coop.crypto as crypto
import coop.spreadsheets as spreadsheets
from coop.dbtypes import utcnow
from coop.errors import Conflict, RuleViolation, ValidationFailed
from coop.registry.cooperatives import ensure_open, lock
from coop.registry.members import check_member, member_columns
from coop.registry.models import Cooperative, Member
from coop.registry.people import LABELS

HEADERS = {
    "name": ("姓名", "成员姓名", "名称", "name"),
    "id_card_no": ("身份证号", "身份证号码", "身份证", "证件号码", "id_card_no"),
    "phone": ("手机号", "手机号码", "联系电话", "电话", "phone"),
    "member_type": ("成员类型", "类型", "member_type"),
    "joined_on": ("入社日期", "入社时间", "joined_on"),
    "bank_name": ("开户行", "开户银行", "bank_name"),
    "bank_account": ("银行账号", "银行卡号", "账号", "bank_account"),
}
REQUIRED = ("name", "id_card_no", "member_type", "joined_on")
MEMBER_TYPE_WORDS = {
    "农户": "farmer", "农民": "farmer", "farmer": "farmer",
    "集体": "collective", "村集体": "collective", "村集体经济组织": "collective",
    "collective": "collective",
    "企业": "enterprise", "enterprise": "enterprise",
    "其他": "other", "其它": "other", "other": "other",
}
HEADER_SEARCH_ROWS = 5   # a title row or two may sit above the header
MAX_COLUMNS = 40
UNZIPPED_FACTOR = 20  # an .xlsx inflates ~5–10×; more is not a member sheet
DEFAULT_MAX_ROWS = 10_000
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
# Excel keeps 15 significant digits: an 18-digit ID typed as a number is already wrong.
_EXCEL_DIGITS = 15


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_rows: int


def _header_key(cell) -> str | None:
    return spreadsheets.header_key(cell, HEADERS)


def _cell_text(value, field: str) -> str:
    """A cell as text; numbers that Excel has rounded are reported, not guessed at."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if not value.is_integer() or abs(value) >= 10**_EXCEL_DIGITS:
            if field in ("id_card_no", "bank_account", "phone"):
                raise ValueError("被 Excel 存成了数字，末位可能已丢失，请把该列设为文本格式后重填")
            return str(value)
        value = int(value)
    if isinstance(value, int) and field in ("id_card_no", "bank_account") \
            and len(str(abs(value))) > _EXCEL_DIGITS:
        raise ValueError("被 Excel 存成了数字，末位可能已丢失，请把该列设为文本格式后重填")
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def _parse_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # An Excel serial date in a cell that lost its date format.
        from openpyxl.utils.datetime import from_excel
        if 1 <= value < 2958466:
            return from_excel(value).date()
        raise ValueError
    text = str(value or "").strip()
    if re.fullmatch(r"\d{8}", text):
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    match = _DATE.match(text)
    if not match:
        raise ValueError
    return date(*(int(g) for g in match.groups()))


def _read_row(cells, columns: dict[int, str]) -> tuple[dict, list[str]]:
    """One spreadsheet row → (member values, reasons it cannot be read)."""
    values, reasons = {}, []
    for index, field in columns.items():
        raw = cells[index] if index < len(cells) else None
        label = LABELS[field]
        if field == "joined_on":
            if raw in (None, ""):
                reasons.append(f"{label}：不能为空")
                continue
            try:
                values[field] = _parse_date(raw)
            except (ValueError, OverflowError):
                reasons.append(f"{label}：无法识别的日期“{raw}”，请用 2024-03-01 格式")
            continue
        try:
            text = _cell_text(raw, field)
        except ValueError as exc:
            reasons.append(f"{label}：{exc}")
            continue
        if field == "member_type":
            kind = MEMBER_TYPE_WORDS.get(text.lower())
            if kind is None:
                reasons.append(f"{label}：应为 农户、集体、企业 或 其他")
                continue
            values[field] = kind
        else:
            values[field] = text
    return values, reasons


def _bounds(max_bytes: int, max_rows: int = 0) -> spreadsheets.Bounds:
    return spreadsheets.Bounds(max_bytes=max_bytes, max_rows=max_rows or DEFAULT_MAX_ROWS,
                               max_columns=MAX_COLUMNS,
                               max_inflated=UNZIPPED_FACTOR * max_bytes)


def _rows_of_xlsx(data: bytes, max_bytes: int):
    """The rows of an .xlsx, through the one bounded reader (coop/spreadsheets.py)."""
    return spreadsheets.rows("upload.xlsx", data, _bounds(max_bytes))


def _rows_of_csv(data: bytes):
    """The rows of a CSV, through the one bounded reader (coop/spreadsheets.py)."""
    return spreadsheets.rows("upload.csv", data, _bounds(len(data)))


def read_sheet(filename: str, data: bytes, limits: Limits) -> list[tuple[int, dict, list[str]]]:
    """Parse the upload into (row number, member values, reasons) for each non-empty row."""
    rows = spreadsheets.rows(filename, data, _bounds(limits.max_bytes, limits.max_rows))
    columns: dict[int, str] | None = None
    parsed = []
    for number, cells in enumerate(rows, start=1):
        if not any(c not in (None, "") and str(c).strip() for c in cells):
            continue
        if columns is None:
            found = {i: k for i, c in enumerate(cells) if (k := _header_key(c))}
            if set(REQUIRED) <= set(found.values()):
                columns = found
            elif number >= HEADER_SEARCH_ROWS:
                break
            continue
        if len(parsed) >= limits.max_rows:
            raise RuleViolation(f"一次最多导入 {limits.max_rows} 行，请分批导入",
                                code="TOO_MANY_ROWS",
                                errors={"file": [f"超过 {limits.max_rows} 行"]})
        values, reasons = _read_row(cells, columns)
        parsed.append((number, values, reasons))
    if columns is None:
        missing = "、".join(HEADERS[f][0] for f in REQUIRED)
        raise ValidationFailed(f"找不到表头：须包含 {missing} 列",
                               errors={"file": [f"缺少表头（{missing}）"]})
    if not parsed:
        raise ValidationFailed("文件中没有成员数据", errors={"file": ["没有数据行"]})
    return parsed


def _check_rows(session: Session, coop: Cooperative, parsed) -> tuple[list[dict], dict]:
    """Check every row; return the rows to insert and {row number: [reasons]}."""
    existing = set(session.execute(select(Member.id_card_hash)
                                   .where(Member.cooperative_id == coop.id)).scalars())
    has_collective = session.execute(select(Member.id).where(
        Member.collective_of == coop.id).limit(1)).first() is not None
    seen: dict[str, int] = {}
    collective_row = None
    to_insert, errors = [], {}
    for number, values, reasons in parsed:
        reasons = list(reasons)
        clean, problems = check_member(values)
        reasons += [f"{LABELS[f]}：{m}" for f, m in problems.items()]
        if "id_card_no" not in problems and clean.get("id_card_no"):
            digest = crypto.blind_index(clean["id_card_no"])
            if digest in existing:
                reasons.append("身份证号：本社成员名册中已有此人")
            elif digest in seen:
                reasons.append(f"身份证号：与第 {seen[digest]} 行重复")
            else:
                seen[digest] = number
        if clean.get("member_type") == "collective":
            if has_collective:
                reasons.append("成员类型：本社已有村集体成员")
            elif collective_row is not None:
                reasons.append(f"成员类型：第 {collective_row} 行已是村集体成员，每社只能有一个")
            else:
                collective_row = number
        if reasons:
            errors[str(number)] = reasons
        elif not errors:
            to_insert.append(clean)
    return to_insert, errors


def import_members(session: Session, actor, coop: Cooperative, filename: str, data: bytes,
                   limits: Limits) -> int:
    """Import the member sheet into the register; all rows or none. Returns the count."""
    ensure_open(coop)
    parsed = read_sheet(filename, data, limits)
    coop = lock(session, coop)
    clean_rows, errors = _check_rows(session, coop, parsed)
    if errors:
        rows = "、".join(list(errors)[:20]) + ("……" if len(errors) > 20 else "")
        raise ValidationFailed(f"第 {rows} 行有误（共 {len(errors)} 行），未导入任何数据",
                               errors=errors)
    now = utcnow()
    records = [{**member_columns(coop, clean), "created_at": now} for clean in clean_rows]
    try:
        session.execute(insert(Member), records)
        audit.record(session, actor, "member.import", "cooperative", coop.id,
                     after={"imported": len(records), "file": filename[:128],
                            "sha256": hashlib.sha256(data).hexdigest()})
        session.flush()
    except IntegrityError:
        raise Conflict("导入期间成员名册被修改，请重新导入") from None
    return len(records)
