"""Check-digit validators for Chinese identifiers, and phone numbers."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

import coop.clock as clock
from coop.errors import RuleViolation, ValidationFailed

# GB 11643-1999: 18-character citizen ID number, last character a mod-11 check.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_PATTERN = re.compile(r"^[0-9]{17}[0-9X]\Z")

# GB 32100-2015: 18-character unified social credit code, last a mod-31 check.
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_PATTERN = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}\Z")

_PHONE = re.compile(r"^1[3-9][0-9]{9}\Z")
_VILLAGE_CODE = re.compile(r"^[0-9]{12}\Z")
_COUNTY_CODE = re.compile(r"^[0-9]{6}\Z")

_SEPARATORS = re.compile(r"[ \u3000\-]+")
_ASCII_ALNUM = re.compile(r"[0-9A-Za-z]*\Z")


def identifier_text(raw: str) -> str:
    """Normalise an identifier as typed (phone, ID card, credit code, bank account,
    invitation code) to the one ASCII spelling it is stored, compared and rate-limited by.

    Spaces (the ideographic one too), dashes and invisible format characters (zero-width
    space, BOM, bidi marks: category Cf) go: they are never part of a number, and a
    number copied from a chat or a document often carries them. Line breaks and tabs
    are not typing, and stay (refused). Anything else that is not an ASCII letter or digit
    stays, and `is_ascii_identifier` then refuses it: full-width "１３８…", "①③⑧…" or
    "٦" (which `int()` and a case-insensitive collation would read as digits) are never
    another spelling of a real number, so they can neither open a fresh rate-limit
    bucket nor match a stored one.
    """
    text = "".join(ch for ch in raw if unicodedata.category(ch) != "Cf")
    return _SEPARATORS.sub("", text)


def phone_text(raw: str) -> str:
    """A phone as typed → its one spelling: identifier_text, then "+86"/"86" dropped."""
    text = identifier_text(raw).removeprefix("+")
    return text[2:] if len(text) == 13 and text.startswith("86") else text


# Control characters (Cc: NUL, ESC, …; tab and line breaks are text), invisible format
# characters (Cf: bidi overrides and isolates, zero-width spaces and joiners, BOM, soft
# hyphen) and lone surrogates (Cs: "\ud800" is valid JSON, and no database stores it), as
# of Python 3.11's Unicode 14 (tests/abuse/test_text.py recomputes the class).
_FORBIDDEN_TEXT = re.compile(
    "["
    "\\U00000000-\\U00000008\\U0000000b-\\U0000000c\\U0000000e-\\U0000001f\\U0000007f-\\U0000009f"
    "\\U000000ad\\U00000600-\\U00000605\\U0000061c\\U000006dd\\U0000070f\\U00000890-\\U00000891"
    "\\U000008e2\\U0000180e\\U0000200b-\\U0000200f\\U0000202a-\\U0000202e\\U00002060-\\U00002064"
    "\\U00002066-\\U0000206f\\U0000d800-\\U0000dfff\\U0000feff\\U0000fff9-\\U0000fffb\\U000110bd"
    "\\U000110cd\\U00013430-\\U00013438\\U0001bca0-\\U0001bca3\\U0001d173-\\U0001d17a\\U000e0001"
    "\\U000e0020-\\U000e007f"
    "]")


def text_problem(text: str) -> str | None:
    """Why a piece of text someone typed (a name, a bank name, a note) cannot be taken,
    or None. A bidi override makes "张三‮1234" display as another name or number, in a
    payout list, a bank file, a 公示 notice; NUL truncates it in C code and some drivers."""
    bad = _FORBIDDEN_TEXT.search(text)
    if bad is None:
        return None
    if unicodedata.category(bad.group()) in ("Cc", "Cs"):
        return "不能包含控制字符"
    return "不能包含不可见字符或方向控制字符"


def is_ascii_identifier(text: str) -> bool:
    return isinstance(text, str) and bool(_ASCII_ALNUM.match(text))


def id_card_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


def is_valid_id_card(number: str) -> bool:
    """GB 11643 checksum plus a real birth date in positions 7–14."""
    if not isinstance(number, str):
        return False
    number = number.strip().upper()
    if not _ID_PATTERN.match(number):
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if born.year < 1900 or born > clock.today():
        return False
    return id_card_check_char(number[:17]) == number[17]


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS))
    return _USCC_CHARS[(31 - total % 31) % 31]


def is_valid_credit_code(code: str) -> bool:
    """GB 32100 unified social credit code with its check character."""
    if not isinstance(code, str):
        return False
    code = code.strip().upper()
    if not _USCC_PATTERN.match(code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def is_valid_phone(phone: str) -> bool:
    """Mainland mobile number (11 digits starting 13–19)."""
    return isinstance(phone, str) and bool(_PHONE.match(phone))


def is_valid_village_code(code: str) -> bool:
    return isinstance(code, str) and bool(_VILLAGE_CODE.match(code))


def is_valid_county_code(code: str) -> bool:
    return isinstance(code, str) and bool(_COUNTY_CODE.match(code))


MIN_YEAR = 2000
MAX_YEAR = 2100


def check_year(year: int) -> None:
    """Refuse a year outside MIN_YEAR..MAX_YEAR (422), so a typo never becomes data."""
    if not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed("年度超出范围", errors={"year": [f"{MIN_YEAR}..{MAX_YEAR}"]})


# Past events (a member joining or leaving, a payment, a trade, an assembly, a status
# change, a share operation's effective date) are judged on China's calendar: nothing not
# yet happened is accepted as done, and nothing before the People's Republic — a year
# typo such as 0224 or 1024 — becomes data.
EARLIEST_EVENT = date(1949, 10, 1)


def past_date_problem(day: date, today: date | None = None) -> str | None:
    """Why `day` cannot be the date of something that has happened, or None. `today`
    defaults to China's (coop.clock); the one rule every past-event date goes through."""
    today = today or clock.today()
    if day > today:
        return f"不能晚于今天（{today.isoformat()}）"
    if day < EARLIEST_EVENT:
        return f"不能早于 {EARLIEST_EVENT.isoformat()}，请核对年份"
    return None


def check_past_date(day: date, field: str, label: str = "日期", *, code: str | None = None,
                    today: date | None = None) -> None:
    """Refuse a past-event date (422): VALIDATION_FAILED, or the rule `code` a contract
    names (EFFECTIVE_DATE_IN_FUTURE for share operations)."""
    problem = past_date_problem(day, today)
    if problem is None:
        return
    if code is not None and day > (today or clock.today()):
        raise RuleViolation(f"{label}{problem}", code=code, errors={field: [problem]})
    raise ValidationFailed(f"{label}{problem}", errors={field: [problem]})
