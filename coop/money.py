"""Money is an integer number of fen (分). Never a float.

`parse_yuan` / `format_yuan` convert at the edges (spreadsheets, bank files, notices);
`split` divides an amount among weights by the largest-remainder method so that the parts
always add up to the whole, and `apply_rate` multiplies fen by a Decimal rate with the
rounding stated at the call site.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Hashable, Sequence

FEN_PER_YUAN = 100
MAX_FEN = 10**17  # ~1e15 yuan: far above any real figure, far below BIGINT's limit


class MoneyError(ValueError):
    """A yuan string or an amount that cannot be money."""


def parse_yuan(text: str | int | Decimal) -> int:
    """'1,234.5' → 123450 fen. At most two decimals; no rounding of a typed amount."""
    if isinstance(text, bool) or isinstance(text, float):
        raise MoneyError("amounts must be text or Decimal, never float")
    raw = str(text).strip().replace(",", "").replace("，", "")
    for mark in ("元", "¥", "￥"):
        raw = raw.replace(mark, "")
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise MoneyError(f"not an amount: {text!r}") from exc
    if not value.is_finite():
        raise MoneyError(f"not an amount: {text!r}")
    fen = value * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise MoneyError(f"more than two decimals: {text!r}")
    fen_int = int(fen)
    if abs(fen_int) > MAX_FEN:
        raise MoneyError(f"amount out of range: {text!r}")
    return fen_int


def format_yuan(fen: int, *, thousands: bool = False) -> str:
    """123450 → '1234.50' (or '1,234.50' with thousands=True)."""
    if not isinstance(fen, int) or isinstance(fen, bool):
        raise MoneyError("fen must be an int")
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), FEN_PER_YUAN)
    whole = f"{yuan:,}" if thousands else str(yuan)
    return f"{sign}{whole}.{cents:02d}"


def apply_rate(fen: int, rate: Decimal, rounding=ROUND_HALF_UP) -> int:
    """fen × rate rounded to a whole fen with the given Decimal rounding (half-up default)."""
    if not isinstance(rate, Decimal):
        raise MoneyError("rates must be Decimal")
    return int((Decimal(fen) * rate).to_integral_value(rounding=rounding))


def split(amount_fen: int, weights: Sequence[int],
          keys: Sequence[Hashable] | None = None) -> list[int]:
    """Divide `amount_fen` in proportion to integer `weights` by largest remainder.

    Each part is floor(amount × w / W); the fen left over go one each to the parts with
    the largest remainders, ties broken by `keys` (ascending; the index if not given), so
    the result is deterministic and `sum(parts) == amount_fen` always. Zero weights get
    zero. Integer arithmetic only.
    """
    if not isinstance(amount_fen, int) or amount_fen < 0:
        raise MoneyError("amount must be a non-negative int of fen")
    if any((not isinstance(w, int)) or isinstance(w, bool) or w < 0 for w in weights):
        raise MoneyError("weights must be non-negative ints")
    if keys is None:
        keys = range(len(weights))
    elif len(keys) != len(weights):
        raise MoneyError("keys and weights differ in length")
    total = sum(weights)
    if total == 0:
        if amount_fen == 0:
            return [0] * len(weights)
        raise MoneyError("cannot split a positive amount over zero total weight")
    parts, remainders = [], []
    for index, weight in enumerate(weights):
        quotient, remainder = divmod(amount_fen * weight, total)
        parts.append(quotient)
        remainders.append(remainder)
    left = amount_fen - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], keys[i]))
    for i in order[:left]:
        parts[i] += 1
    return parts
