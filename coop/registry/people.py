"""Personal identifiers on the register: check, encrypt, mask.

ID-card (居民身份证号) and bank-account numbers are stored encrypted with a keyed hash
("blind index") for uniqueness and a precomputed mask for responses (coop/crypto.py).
Phones are stored in clear (the cooperative calls its members) and masked on output for
every reader except the cooperative's own manager and the person themself.

Checks return a Chinese message (or None) so the JSON routes and the spreadsheet import
report the same reasons.
"""
from __future__ import annotations

import re

import coop.crypto as crypto
from coop.errors import RuleViolation, ValidationFailed
from coop.validators import is_valid_credit_code, is_valid_id_card, is_valid_phone

_SPACES = re.compile(r"[\s\-]+")
_ACCOUNT = re.compile(r"^[0-9]{10,30}\Z")  # ASCII: \d takes full-width and Arabic-Indic digits
NAME_MAX = 64
BANK_NAME_MAX = 64

# Field labels used in messages (and as spreadsheet headers, see importer.py).
LABELS = {
    "name": "姓名", "id_card_no": "身份证号", "phone": "手机号", "member_type": "成员类型",
    "joined_on": "入社日期", "bank_name": "开户行", "bank_account": "银行账号",
}


def compact(raw: str | None) -> str:
    """Drop spaces and dashes people type inside long numbers; upper-case the X."""
    return _SPACES.sub("", raw or "").upper()


def normalize_phone(raw: str | None) -> str | None:
    phone = compact(raw)
    if phone.startswith("+86"):
        phone = phone[3:]
    return phone or None


def name_problem(name: str) -> str | None:
    if not name:
        return "不能为空"
    if len(name) > NAME_MAX:
        return f"不能超过 {NAME_MAX} 个字符"
    return None


def id_card_problem(number: str, *, organisation: bool = False) -> str | None:
    """GB 11643 check for a person; an organisation may give its GB 32100 credit code."""
    if not number:
        return "不能为空"
    if is_valid_id_card(number):
        return None
    if organisation and is_valid_credit_code(number):
        return None
    if organisation:
        return "不是有效的身份证号或统一社会信用代码（校验位错误）"
    return "不是有效的身份证号（校验位或出生日期错误）"


def phone_problem(phone: str | None) -> str | None:
    if phone and not is_valid_phone(phone):
        return "不是有效的手机号（11 位，1 开头）"
    return None


def bank_problems(bank_name: str | None, account: str | None) -> dict[str, str]:
    """Bank name and account come together (payouts need both)."""
    problems = {}
    if account and not _ACCOUNT.match(account):
        problems["bank_account"] = "应为 10 至 30 位数字"
    if bank_name and len(bank_name) > BANK_NAME_MAX:
        problems["bank_name"] = f"不能超过 {BANK_NAME_MAX} 个字符"
    if bool(bank_name) != bool(account):
        key = "bank_name" if account else "bank_account"
        problems.setdefault(key, "开户行和银行账号须同时填写")
    return problems


def id_card_columns(number: str) -> dict:
    return {"id_card_enc": crypto.encrypt(number), "id_card_hash": crypto.blind_index(number),
            "id_card_masked": crypto.mask_id_card(number)}


def bank_account_columns(account: str | None) -> dict:
    if not account:
        return {"bank_account_enc": None, "bank_account_hash": None,
                "bank_account_masked": None}
    return {"bank_account_enc": crypto.encrypt(account),
            "bank_account_hash": crypto.blind_index(account),
            "bank_account_masked": crypto.mask_account(account)}


def shown_phone(phone: str | None, reveal: bool) -> str | None:
    return phone if reveal else crypto.mask_phone(phone)


def raise_field_problems(problems: dict[str, str], prefix: str = "") -> None:
    """Turn {field: message} into the contract's 422; a bad ID card has its own code."""
    if not problems:
        return
    errors = {prefix + field: [message] for field, message in problems.items()}
    if "id_card_no" in problems:
        raise RuleViolation("身份证号无效：" + problems["id_card_no"], code="ID_CARD_INVALID",
                            errors=errors)
    raise ValidationFailed("；".join(f"{LABELS.get(f, f)}{m}" for f, m in problems.items()),
                           errors=errors)


def check_person(values: dict) -> dict:
    """Normalize and check a {name, id_card_no, phone} person (officers, managers).

    Returns the table columns (encrypted ID card, clear phone) or raises 422.
    """
    name = (values.get("name") or "").strip()
    number = compact(values.get("id_card_no"))
    phone = normalize_phone(values.get("phone"))
    problems = {k: v for k, v in (("name", name_problem(name)),
                                  ("id_card_no", id_card_problem(number)),
                                  ("phone", phone_problem(phone))) if v}
    raise_field_problems(problems, prefix="person.")
    return {"name": name, "phone": phone, **id_card_columns(number)}


def person_view(row, reveal_phone: bool) -> dict:
    """The person block of an officer or manager response, masked."""
    return {"name": row.name, "id_card_no": row.id_card_masked,
            "phone": shown_phone(row.phone, reveal_phone)}
