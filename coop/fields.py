"""Marshmallow fields shared by every capability's schemas: integers, booleans, money,
ids, rates, identifiers, choices."""
from __future__ import annotations

import contextvars
import re
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate

from coop.dbtypes import MAX_ID
from coop.money import MAX_FEN
from coop.validators import (identifier_text, is_ascii_identifier, is_valid_phone,
                             past_date_problem, phone_text)

# ASCII digits only: \d would take "0.２". (Also the spec's pattern: ECMA syntax.)
RATE_PATTERN = re.compile(r"^(0(\.[0-9]{1,4})?|1(\.0{1,4})?)$")


def rate_text(value: Decimal | None) -> str | None:
    """Decimal('0.2000') → "0.20"; Decimal('0.1250') → "0.125" (at least two places)."""
    if value is None:
        return None
    text = format(Decimal(value).normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


class Rate(fields.Field):
    """A rate as a decimal string between 0 and 1, at most four decimals ("0.20").

    JSON numbers are refused: a float has already lost the exact value.
    """

    def __init__(self, **kwargs):
        metadata = {"type": "string", "pattern": RATE_PATTERN.pattern, "example": "0.20",
                    **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not RATE_PATTERN.match(value.strip()):
            raise ValidationError('须为 0 到 1 之间的小数字符串，最多四位小数，如 "0.20"')
        return Decimal(value.strip())

    def _serialize(self, value, attr, obj, **kwargs):
        return rate_text(value)


# True while webargs loads a location whose values are text (query string, path, form,
# headers): set by coop.api.Parser. Everywhere else (JSON bodies, a view's own load of a
# JSON array) integers must be JSON integers.
TEXT_LOCATION: contextvars.ContextVar[bool] = contextvars.ContextVar("text_location",
                                                                     default=False)
_ASCII_INT = re.compile(r"-?[0-9]{1,20}\Z")


class Integer(fields.Integer):
    """The one integer field of every schema: strict, whatever the location.

    In a JSON body only a JSON integer is one: `100.99` is not 100, `"100"` is not 100,
    `true` is not 1. In a query string or a path every value is text, so there an integer
    is ASCII digits — `"１００"` or `"٦"` (which Python's `int()` reads) are not. Nothing
    is ever truncated or coerced.
    """

    default_error_messages = {"invalid": "须为整数", "too_large": "数值过大"}

    def _validated(self, value):
        if value is True or value is False:
            raise self.make_error("invalid", input=value)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and TEXT_LOCATION.get() and _ASCII_INT.match(value):
            return int(value)
        raise self.make_error("invalid", input=value)


class Boolean(fields.Boolean):
    """The one boolean field: in a JSON body only `true` or `false` (marshmallow alone
    also takes 1, "yes", "on" …); in a query string "true"/"false" (and "1"/"0")."""

    default_error_messages = {"invalid": "须为 true 或 false"}

    def _deserialize(self, value, attr, data, **kwargs):
        if value is True or value is False:
            return value
        if TEXT_LOCATION.get() and isinstance(value, str) and value in _TEXT_BOOLEANS:
            return _TEXT_BOOLEANS[value]
        raise self.make_error("invalid", input=value)


_TEXT_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


def Fen(**kw) -> Integer:  # noqa: N802 (reads like a field class)
    """Money in whole fen, 0..MAX_FEN; JSON numbers with a fraction are refused."""
    return Integer(validate=validate.Range(min=0, max=MAX_FEN), **kw)


def Id(**kw) -> Integer:  # noqa: N802
    """A row id: 1..BIGINT max."""
    return Integer(validate=validate.Range(min=1, max=MAX_ID), **kw)


# --- identifiers ----------------------------------------------------------------------

class Identifier(fields.String):
    """An identifier as people type it (full-width digits, spaces, dashes, a stray
    zero-width space), loaded as its one ASCII spelling (coop.validators.identifier_text)
    or refused. What the row stores, the unique keys compare and the rate limits count
    is that spelling, never another."""

    default_error_messages = {"invalid": "须为字符串", "ascii": "只能包含半角数字或字母"}
    upper = True

    def __init__(self, *, max_length: int = 32, **kw):
        self.max_length = max_length
        super().__init__(**kw)

    normalise = staticmethod(identifier_text)

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs)
        text = self.normalise(raw)
        if self.upper:
            text = text.upper()
        if not is_ascii_identifier(text):
            raise self.make_error("ascii")
        if not text:
            if self.allow_none:  # an optional number cleared with "" (a blank form field)
                return None
            raise ValidationError("不能为空")
        if len(text) > self.max_length:
            raise ValidationError(f"不能超过 {self.max_length} 个字符")
        return self.check(text)

    def check(self, text: str) -> str:
        return text


class Phone(Identifier):
    """A mainland mobile number: 11 ASCII digits after normalising, +86 dropped."""

    normalise = staticmethod(phone_text)

    def check(self, text: str) -> str:
        if not is_valid_phone(text):
            raise ValidationError("不是有效的手机号（11 位，1 开头）")
        return text


class BankAccount(Identifier):
    """10 to 30 ASCII digits."""

    def check(self, text: str) -> str:
        if not text.isdigit() or not 10 <= len(text) <= 30:
            raise ValidationError("应为 10 至 30 位数字")
        return text


# --- choices --------------------------------------------------------------------------

class Choice(fields.String):
    """One of `choices`, also accepted by the Chinese name the spreadsheet importers
    accept (农户 → farmer); always loaded as the machine value."""

    def __init__(self, choices, *, words: dict[str, str] | None = None, **kw):
        self.choices = tuple(choices)
        self.words = {k: v for k, v in (words or {}).items() if v in self.choices}
        kw.setdefault("validate", validate.OneOf(self.choices))
        super().__init__(**kw)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        return self.words.get(text.strip(), text)


class NoBodyIn(Schema):
    """The body of an action that takes none: it may be left out or be `{}`, and unknown
    fields are 422 like everywhere else (a stray `amount_fen` must not be ignored).
    Use with `@blp.arguments(NoBodyIn, required=False)`."""


class PastDate(fields.Date):
    """The date of something that has happened (joined, left, paid, held, founded): not
    after China's today, not before 1949-10-01 (coop.validators.past_date_problem)."""

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        if (problem := past_date_problem(day)) is not None:
            raise ValidationError(problem)
        return day
