"""Payout batches and lines, shared by distributions, rewards and subsidies.

A batch has a `source` (distribution | reward | subsidy) and the id of the object it pays
out; at most one batch per source object (a unique key). Lines are never edited after
payment: a reversal is a new line with a negative amount that `reverses_id` the original,
and a failed line is re-issued in a follow-up batch (`reissue_of_id`).
"""
from __future__ import annotations

from datetime import date, datetime

from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coop.dbtypes import UTCDateTime, created_at, fk, intpk
from coop.extensions import db

SOURCES = ("distribution", "reward", "subsidy")
class BatchStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class LineStatus(StrEnum):
    # held: the payee has no bank account; out of the bank file until one is given.
    HELD = "held"
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    REVERSED = "reversed"   # a reversing line (冲正), negative amount


BATCH_STATES = tuple(BatchStatus)
LINE_STATES = tuple(LineStatus)
PAYEE_TYPES = ("member", "cooperative", "secretary", "manager")


class PayoutBatch(db.Model):
    __tablename__ = "payout_batches"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False, index=True)
    # NULL for a county-wide batch (a reward round pays several cooperatives).
    cooperative_id: Mapped[int | None] = fk("cooperatives.id", index=True)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    source_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # 0 for the first batch of a source; a follow-up batch re-issuing failed lines counts up.
    sequence: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    line_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[created_at]

    __table_args__ = (UniqueConstraint("source", "source_id", "sequence"),)


class PayoutLine(db.Model):
    __tablename__ = "payout_lines"

    id: Mapped[intpk]
    batch_id: Mapped[int] = fk("payout_batches.id", nullable=False, index=True)
    county_id: Mapped[int] = fk("counties.id", nullable=False, index=True)
    cooperative_id: Mapped[int | None] = fk("cooperatives.id", index=True)
    town_id: Mapped[int | None] = fk("towns.id")
    member_id: Mapped[int | None] = fk("members.id", index=True)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    payee_type: Mapped[str] = mapped_column(String(16), nullable=False)
    payee_name: Mapped[str] = mapped_column(String(128), nullable=False)
    bank_name: Mapped[str | None] = mapped_column(String(64))
    bank_account_enc: Mapped[str | None] = mapped_column(Text)
    bank_account_masked: Mapped[str | None] = mapped_column(String(40))
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # The village collective's line: its amount is recorded as collective income.
    is_collective: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    bank_ref: Mapped[str | None] = mapped_column(String(64))
    paid_on: Mapped[date | None] = mapped_column(Date)
    reverses_id: Mapped[int | None] = fk("payout_lines.id")
    reissue_of_id: Mapped[int | None] = fk("payout_lines.id")
    reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        db.Index("ix_payout_lines_county_year", "county_id", "year"),
        # Covering index of the county dashboard's payouts-by-source figure (reports):
        # an index-only scan instead of a row lookup per line.
        db.Index("ix_payout_lines_county_year_source", "county_id", "year", "source",
                 "status", "reverses_id", "amount_fen"),
        # A line is reversed at most once and re-issued at most once, even under races.
        UniqueConstraint("reverses_id"),
        UniqueConstraint("reissue_of_id"),
    )
