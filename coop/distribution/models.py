"""Tables of the distribution capability: annual accounts, trades, plans and their lines.

Every row carries `county_id` and `cooperative_id` (and lines `member_id`) so the policy
layer can scope it. Money is BIGINT fen; rates Numeric(9, 4).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Date, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coop.dbtypes import Ident, UTCDateTime, created_at, fk, intpk, money, utcnow
from coop.extensions import db

__all__ = ["PlanStatus", "AnnualAccount", "Trade", "DistributionPlan", "DistributionLine", "PLAN_STATES",
           "LIVE_STATES", "DONE_STATES"]

class PlanStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ASSEMBLY_APPROVED = "assembly_approved"
    PUBLICIZED = "publicized"
    APPROVED = "approved"
    PAID = "paid"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


PLAN_STATES = tuple(PlanStatus)
# A cooperative has at most one live plan per year; rejected/cancelled ones step aside.
LIVE_STATES = PLAN_STATES[:6]
# Approved money: the year's accounts and trades are locked, figures reach member accounts.
DONE_STATES = (PlanStatus.APPROVED, PlanStatus.PAID)


class AnnualAccount(db.Model):
    """年度账目: one row per cooperative and year."""

    __tablename__ = "annual_accounts"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False, index=True)
    cooperative_id: Mapped[int] = fk("cooperatives.id", nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    revenue_fen: Mapped[money]
    cost_fen: Mapped[money]
    prior_loss_fen: Mapped[money]
    wages_paid_fen: Mapped[money]
    labour_days: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    fiscal_subsidy_fen: Mapped[money]
    updated_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow,
                                                 onupdate=utcnow)

    __table_args__ = (UniqueConstraint("cooperative_id", "year"),)


class Trade(db.Model):
    """One transaction of a member with the cooperative (交易量/额), the patronage basis."""

    __tablename__ = "trades"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False, index=True)
    cooperative_id: Mapped[int] = fk("cooperatives.id", nullable=False)
    member_id: Mapped[int] = fk("members.id", nullable=False, index=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    # Negative for a correcting entry; a member's yearly total never goes below zero.
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    occurred_on: Mapped[date] = mapped_column(Date, nullable=False)
    note: Mapped[str | None] = mapped_column(String(255))
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[created_at]

    __table_args__ = (
        db.Index("ix_trades_coop_year_member", "cooperative_id", "year", "member_id",
                 "amount_fen"),
    )


class DistributionPlan(db.Model):
    """盈余分配方案 with its governance state (CONTRACT §5)."""

    __tablename__ = "distribution_plans"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False, index=True)
    cooperative_id: Mapped[int] = fk("cooperatives.id", nullable=False, index=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    # = year while the plan is live, NULL once rejected/cancelled: one live plan per year.
    live_year: Mapped[int | None] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    reserve_rate: Mapped[Decimal] = mapped_column(Numeric(9, 4), nullable=False)
    patronage_rate: Mapped[Decimal | None] = mapped_column(Numeric(9, 4))
    status: Mapped[str] = mapped_column(String(20), nullable=False,
                                        default=PlanStatus.DRAFT)
    # The figures the plan was computed from, and what it computed.
    revenue_fen: Mapped[money]
    cost_fen: Mapped[money]
    prior_loss_fen: Mapped[money]
    surplus_fen: Mapped[money]
    loss_covered_fen: Mapped[money]
    reserve_fen: Mapped[money]
    distributable_fen: Mapped[money]
    patronage_pool_fen: Mapped[money]
    share_pool_fen: Mapped[money]
    fiscal_subsidy_fen: Mapped[money]
    trade_total_fen: Mapped[money]
    share_basis_total_fen: Mapped[money]
    converted_fen: Mapped[money]
    line_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # SHA-256 of accounts, trades, capital and balances: approval refuses a stale plan.
    basis_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    # The member assembly (成员大会), Art. 22 and 40
    assembly_held_on: Mapped[date | None] = mapped_column(Date)
    basic_votes_total: Mapped[int | None] = mapped_column(Integer)
    extra_votes_total: Mapped[int | None] = mapped_column(Integer)
    votes_for: Mapped[int | None] = mapped_column(Integer)
    votes_against: Mapped[int | None] = mapped_column(Integer)
    abstentions: Mapped[int | None] = mapped_column(Integer)
    # The public notice (公示)
    public_token: Mapped[str | None] = mapped_column(Ident(64), unique=True)
    notice_days: Mapped[int | None] = mapped_column(Integer)
    notice_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[created_at]
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # approved/rejected/cancelled
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("cooperative_id", "live_year"),
        db.Index("ix_distribution_plans_coop_year", "cooperative_id", "year", "status"),
    )


class DistributionLine(db.Model):
    """One member's line of a plan. Written once with the plan; only `convert_fen` (the
    assembly's Art. 44 conversion into capital) is set afterwards, before approval."""

    __tablename__ = "distribution_lines"

    id: Mapped[intpk]
    plan_id: Mapped[int] = fk("distribution_plans.id", nullable=False)
    county_id: Mapped[int] = fk("counties.id", nullable=False)
    cooperative_id: Mapped[int] = fk("cooperatives.id", nullable=False)
    member_id: Mapped[int] = fk("members.id", nullable=False, index=True)
    is_collective: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    capital_fen: Mapped[money]
    trade_fen: Mapped[money]
    share_basis_fen: Mapped[money]
    subsidy_share_fen: Mapped[money]
    reserve_share_fen: Mapped[money]
    patronage_fen: Mapped[money]
    share_fen: Mapped[money]
    total_fen: Mapped[money]
    convert_fen: Mapped[money]

    __table_args__ = (UniqueConstraint("plan_id", "member_id"),)
