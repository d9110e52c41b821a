"""Tables of the county-money capability.

Village collective income (村集体经营性收入) per year: exactly the figure the county
enters (source 'entered'). Rows of source 'distribution' were written by the first wave,
which added the collective member's dividend to the income; they are kept as history and
count for nothing (the dividends are shown beside the income, read from payout lines).

Evaluations (考核): one score per department and year. Reward rules (奖励办法) per county
and year. Reward rounds (奖励轮次) with their lines. Budgeted programs (专项资金) and the
subsidy applications (补助申请) paid from them.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from enum import StrEnum

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Date, Integer, Numeric, String,
                        Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from coop.dbtypes import UTCDateTime, created_at, fk, intpk, utcnow
from coop.extensions import db

__all__ = ["CollectiveIncomeItem", "EvaluationScore", "RewardRule", "RewardRound",
           "RewardLine", "Program", "SubsidyApplication", "INCOME_SOURCES",
           "RoundStatus", "ApplicationStatus", "ROUND_STATES", "LIVE_ROUND_STATES", "APPLICATION_STATES", "GRADES"]

INCOME_SOURCES = ("entered", "distribution")
GRADES = ("pending", "excellent", "good", "pass", "fail")
class RoundStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    DISBURSED = "disbursed"


ROUND_STATES = tuple(RoundStatus)
# A round in one of these states blocks another round for the same county and year.
LIVE_ROUND_STATES = (RoundStatus.DRAFT, RoundStatus.APPROVED)
REWARD_LINE_KINDS = ("award", "secretary", "manager")
# Who shares the managers' rate: officer roles of the register, and professional managers.
MANAGER_ROLE_CHOICES = ("chair", "director", "supervisor_chair", "supervisor", "accountant",
                        "professional_manager")
DEFAULT_MANAGER_ROLES = ("chair", "director", "professional_manager")
APPLICATION_STATES = tuple(ApplicationStatus)


class CollectiveIncomeItem(db.Model):
    __tablename__ = "collective_income_items"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False, index=True)
    village_id: Mapped[int] = fk("villages.id", nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    # 'entered' (the figure a county user PUTs, one row, replaced) or 'distribution'
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    # For 'distribution': the payout line it came from; 0 for 'entered'.
    source_id: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[created_at]

    __table_args__ = (
        UniqueConstraint("village_id", "year", "source", "source_id"),
        db.Index("ix_collective_income_village_year", "village_id", "year"),
    )


class EvaluationScore(db.Model):
    """One department's score (0..100, whole points) of a cooperative for a year."""

    __tablename__ = "evaluation_scores"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False, index=True)
    cooperative_id: Mapped[int] = fk("cooperatives.id", nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    department: Mapped[str] = mapped_column(String(16), nullable=False)
    score: Mapped[int] = mapped_column(Integer, nullable=False)
    opinion: Mapped[str] = mapped_column(Text, nullable=False, default="")
    reviewer_id: Mapped[int] = fk("users.id", nullable=False)
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow,
                                                 onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("cooperative_id", "year", "department"),
        CheckConstraint("score >= 0 AND score <= 100", name="ck_evaluation_score_range"),
        db.Index("ix_evaluation_scores_county_year", "county_id", "year"),
    )


class RewardRule(db.Model):
    """A county's reward settings for one year: award, rates and grade thresholds.

    Thresholds are average scores: excellent ≥ excellent_min_score, good ≥
    good_min_score, pass ≥ pass_min_score, else fail (see coop/county/evaluations.py).
    """

    __tablename__ = "reward_rules"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    excellent_award_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    secretary_rate: Mapped[Decimal] = mapped_column(Numeric(9, 4), nullable=False)
    managers_rate: Mapped[Decimal] = mapped_column(Numeric(9, 4), nullable=False)
    excellent_min_score: Mapped[int] = mapped_column(Integer, nullable=False)
    good_min_score: Mapped[int] = mapped_column(Integer, nullable=False)
    pass_min_score: Mapped[int] = mapped_column(Integer, nullable=False)
    program_id: Mapped[int] = fk("programs.id", nullable=False)
    # 一次性奖补: a cooperative awarded in an earlier approved round gets no award again.
    award_once: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Comma-separated MANAGER_ROLE_CHOICES: who shares the managers' rate.
    manager_roles: Mapped[str] = mapped_column(String(255), nullable=False,
                                               default=",".join(DEFAULT_MANAGER_ROLES))
    updated_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow,
                                                 onupdate=utcnow)

    __table_args__ = (UniqueConstraint("county_id", "year"),)


class RewardRound(db.Model):
    """A county's reward round for a year: draft → approved | rejected | cancelled.

    `live_year` equals `year` while the round is draft or approved and is NULL once it
    is rejected or cancelled; the unique key on (county_id, live_year) is what keeps a
    second live round for the same county and year out of the database (NULLs never
    collide), so nobody can be paid twice by re-running a round.
    """

    __tablename__ = "reward_rounds"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False, index=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    live_year: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    # The rules as they were when the round was computed.
    program_id: Mapped[int] = fk("programs.id", nullable=False)
    excellent_award_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    secretary_rate: Mapped[Decimal] = mapped_column(Numeric(9, 4), nullable=False)
    managers_rate: Mapped[Decimal] = mapped_column(Numeric(9, 4), nullable=False)
    total_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    line_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_by: Mapped[int] = fk("users.id", nullable=False)
    decided_by: Mapped[int | None] = fk("users.id")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(255))
    payout_batch_id: Mapped[int | None] = fk("payout_batches.id")
    created_at: Mapped[created_at]

    __table_args__ = (UniqueConstraint("county_id", "live_year",
                                       name="uq_reward_rounds_live_year"),)


class RewardLine(db.Model):
    """One payee of a round: the award, the secretary's or a manager's share.

    `payee_key` names the person or body paid ("cooperative:7", "secretary:village:3",
    "officer:12", "professional_manager:4"); it is unique within a round.
    """

    __tablename__ = "reward_lines"

    id: Mapped[intpk]
    round_id: Mapped[int] = fk("reward_rounds.id", nullable=False, index=True)
    county_id: Mapped[int] = fk("counties.id", nullable=False)
    cooperative_id: Mapped[int] = fk("cooperatives.id", nullable=False, index=True)
    village_id: Mapped[int] = fk("villages.id", nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    payee_key: Mapped[str] = mapped_column(String(48), nullable=False)
    payee_type: Mapped[str] = mapped_column(String(16), nullable=False)
    payee_name: Mapped[str] = mapped_column(String(128), nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # The basis of a secretary/manager line: income(year − 1), income(year), the rate.
    income_prev_fen: Mapped[int | None] = mapped_column(BigInteger)
    income_fen: Mapped[int | None] = mapped_column(BigInteger)
    rate: Mapped[Decimal | None] = mapped_column(Numeric(9, 4))
    # Why the payee qualifies, as people read it ("理事长", "村党组织书记", "考核优秀").
    reason: Mapped[str | None] = mapped_column(String(64))
    # Where to pay, when known (coop/county/managers.py); else the bank file leaves it open.
    member_id: Mapped[int | None] = fk("members.id")
    bank_name: Mapped[str | None] = mapped_column(String(64))
    bank_account_enc: Mapped[str | None] = mapped_column(Text)
    bank_account_masked: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (UniqueConstraint("round_id", "payee_key"),)


class Program(db.Model):
    """A budgeted county program (专项资金).

    committed_fen is approved but not yet paid; disbursed_fen is paid. The database
    refuses any state where committed + disbursed exceeds the budget.
    """

    __tablename__ = "programs"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    # A fund that runs several years ends in end_year (NULL: the program's own year only).
    end_year: Mapped[int | None] = mapped_column(Integer)
    budget_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # No cooperative is approved more than this over the program (NULL: no cap).
    per_recipient_cap_fen: Mapped[int | None] = mapped_column(BigInteger)
    committed_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    disbursed_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[created_at]

    __table_args__ = (
        CheckConstraint("committed_fen >= 0 AND disbursed_fen >= 0 "
                        "AND committed_fen + disbursed_fen <= budget_fen",
                        name="ck_programs_within_budget"),
    )

    @property
    def available_fen(self) -> int:
        return self.budget_fen - self.committed_fen - self.disbursed_fen

    @property
    def last_year(self) -> int:
        return self.end_year if self.end_year is not None else self.year


class SubsidyApplication(db.Model):
    """A cooperative's application for money from a program.

    submitted → approved (reserves budget) → disbursed (paid, payout line written), or
    submitted → rejected.
    """

    __tablename__ = "subsidy_applications"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False)
    cooperative_id: Mapped[int] = fk("cooperatives.id", nullable=False, index=True)
    program_id: Mapped[int] = fk("programs.id", nullable=False, index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # What finance granted (≤ amount_fen); NULL until approved. Budget moves use it.
    approved_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(500), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="submitted")
    created_by: Mapped[int] = fk("users.id", nullable=False)
    approved_by: Mapped[int | None] = fk("users.id")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_by: Mapped[int | None] = fk("users.id")
    reject_reason: Mapped[str | None] = mapped_column(String(255))
    disbursed_by: Mapped[int | None] = fk("users.id")
    paid_on: Mapped[date | None] = mapped_column(Date)
    bank_ref: Mapped[str | None] = mapped_column(String(64))
    payout_batch_id: Mapped[int | None] = fk("payout_batches.id")
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow,
                                                 onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="ck_subsidy_amount_positive"),
        db.Index("ix_subsidy_applications_county_status", "county_id", "status", "id"),
    )
