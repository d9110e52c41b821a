"""Marshmallow fields shared by every capability's schemas: money, ids, rates."""
from __future__ import annotations

import re
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate

from coop.dbtypes import MAX_ID
from coop.validators import past_date_problem
from coop.money import MAX_FEN

RATE_PATTERN = re.compile(r"^(0(\.\d{1,4})?|1(\.0{1,4})?)$")


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


def Fen(**kw) -> fields.Integer:  # noqa: N802 (reads like a field class)
    """Money in whole fen, 0..MAX_FEN; JSON numbers with a fraction are refused."""
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_FEN), **kw)


def Id(**kw) -> fields.Integer:  # noqa: N802
    """A row id: 1..BIGINT max."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kw)


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
