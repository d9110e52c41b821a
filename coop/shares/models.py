"""Share operations and the append-only register.

An operation is requested (`submitted`) and then `approved` or `rejected`; only approval
writes register lines. Lines are numbered gapless per cooperative and never edited: a
correction is a new operation that `reverses` the original.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coop.dbtypes import UTCDateTime, created_at, fk, intpk
from coop.extensions import db

OPERATION_TYPES = ("subscribe", "transfer", "redeem", "convert_surplus", "reverse")
KINDS = ("cash", "land", "collective_asset", "fiscal_subsidy", "labour")
OPERATION_STATES = ("submitted", "approved", "rejected")


class ShareOperation(db.Model):
    __tablename__ = "share_operations"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False, index=True)
    cooperative_id: Mapped[int] = fk("cooperatives.id", nullable=False, index=True)
    member_id: Mapped[int] = fk("members.id", nullable=False, index=True)
    to_member_id: Mapped[int | None] = fk("members.id")
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    # Value in fen; for land it is area_mu × the charter's rate, rounded half-up.
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    area_mu: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    tickets: Mapped[int | None] = mapped_column(Integer)
    effective_on: Mapped[date] = mapped_column(Date, nullable=False)
    note: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="submitted")
    reverses_id: Mapped[int | None] = fk("share_operations.id")
    # For convert_surplus: the distribution plan the converted surplus came from.
    distribution_id: Mapped[int | None] = mapped_column(BigInteger)
    reject_reason: Mapped[str | None] = mapped_column(String(255))
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[created_at]
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ShareRegisterHead(db.Model):
    """Per-cooperative line counter; its row lock keeps numbering gapless under races."""

    __tablename__ = "share_register_heads"

    cooperative_id: Mapped[int] = fk("cooperatives.id", primary_key=True)
    last_line_no: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class ShareLine(db.Model):
    """One immutable register line: a signed change of one member's holding of one kind."""

    __tablename__ = "share_lines"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False)
    cooperative_id: Mapped[int] = fk("cooperatives.id", nullable=False)
    line_no: Mapped[int] = mapped_column(BigInteger, nullable=False)
    member_id: Mapped[int] = fk("members.id", nullable=False, index=True)
    operation_id: Mapped[int] = fk("share_operations.id", nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    delta_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    effective_on: Mapped[date] = mapped_column(Date, nullable=False)
    created_at: Mapped[created_at]

    __table_args__ = (
        UniqueConstraint("cooperative_id", "line_no"),
        # The as-of register sums lines by (cooperative, date): this index covers it.
        db.Index("ix_share_lines_coop_date", "cooperative_id", "effective_on", "member_id",
                 "kind", "delta_fen"),
    )
