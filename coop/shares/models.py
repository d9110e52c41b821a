"""Share operations and the append-only register.

An operation is requested (`submitted`) and then `approved` or `rejected`; only approval
writes register lines. Lines are numbered gapless per cooperative and never edited: a
correction is a new operation that `reverses` the original.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from enum import StrEnum

from sqlalchemy import BigInteger, Date, Integer, Numeric, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from coop.dbtypes import UTCDateTime, created_at, fk, intpk, money
from coop.extensions import db

__all__ = ["ShareOperation", "ShareRegisterHead", "ShareLine", "ShareBalance"]

OPERATION_TYPES = ("subscribe", "transfer", "redeem", "convert_surplus", "reverse")
KINDS = ("cash", "land", "collective_asset", "fiscal_subsidy", "labour")
class OperationStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


OPERATION_STATES = tuple(OperationStatus)


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
    status: Mapped[str] = mapped_column(String(16), nullable=False,
                                        default=OperationStatus.SUBMITTED)
    reverses_id: Mapped[int | None] = fk("share_operations.id")
    # For convert_surplus: the distribution plan the converted surplus came from.
    distribution_id: Mapped[int | None] = mapped_column(BigInteger)
    reject_reason: Mapped[str | None] = mapped_column(String(255))
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[created_at]
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        db.Index("ix_share_operations_coop_status", "cooperative_id", "status", "id"),
    )


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
        # ... and this one when most of the history is summed: read in member order, the
        # per-member sums stream without a temporary table (also a member's holding check).
        db.Index("ix_share_lines_coop_member", "cooperative_id", "member_id", "effective_on",
                 "kind", "delta_fen"),
    )


class ShareBalance(db.Model):
    """A member's current holding by kind: the sum of all their lines, kept in step by
    the approval that writes them, under the register head lock.

    A projection for speed (the register as of today and the cap check read 5,000
    rows here instead of summing 50,000 lines); the lines remain the record, and
    `coop.shares.ledger.rebuild_balances` recomputes this table from them.
    """

    __tablename__ = "share_balances"

    cooperative_id: Mapped[int] = fk("cooperatives.id", primary_key=True)
    member_id: Mapped[int] = fk("members.id", primary_key=True)
    county_id: Mapped[int] = fk("counties.id", nullable=False)
    cash_fen: Mapped[money]
    land_fen: Mapped[money]
    collective_asset_fen: Mapped[money]
    fiscal_subsidy_fen: Mapped[money]
    labour_fen: Mapped[money]
    total_fen: Mapped[money]


class ImmutableLineError(RuntimeError):
    """Raised when code tries to edit or delete a register line (corrections reverse)."""


@event.listens_for(ShareLine, "before_update")
def _refuse_line_update(mapper, connection, target):
    raise ImmutableLineError(f"share line {target.line_no} is immutable; reverse its operation")


@event.listens_for(ShareLine, "before_delete")
def _refuse_line_delete(mapper, connection, target):
    raise ImmutableLineError(f"share line {target.line_no} is immutable; reverse its operation")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_line_changes(state):
    # update(ShareLine)/delete(ShareLine) through the ORM skip the mapper events above.
    if (state.is_update or state.is_delete) and state.bind_mapper is not None \
            and state.bind_mapper.class_ is ShareLine:
        raise ImmutableLineError("share lines are immutable; reverse the operation instead")
