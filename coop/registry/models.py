"""Cooperatives and members.

Sensitive numbers (ID card, bank account) are stored encrypted (`*_enc`), with a keyed
hash (`*_hash`) for uniqueness and a precomputed mask (`*_masked`) for responses, so a
list never has to decrypt anything. See coop/crypto.py.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Date, Numeric, String, Text, UniqueConstraint
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

import coop.clock as clock
from coop.dbtypes import Ident, UTCDateTime, created_at, fk, intpk, utcnow
from coop.extensions import db

class CoopStatus(StrEnum):
    ACTIVE = "active"
    STANDARDIZED = "standardized"
    SHELL = "shell"
    CLOSED = "closed"
    MERGED = "merged"
    TRANSFORMED = "transformed"


COOP_STATUSES = tuple(CoopStatus)
DISTRIBUTION_METHODS = ("statutory", "by_shares")
MEMBER_TYPES = ("farmer", "collective", "enterprise", "other")


class Cooperative(db.Model):
    __tablename__ = "cooperatives"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False, index=True)
    town_id: Mapped[int] = fk("towns.id", nullable=False, index=True)
    village_id: Mapped[int] = fk("villages.id", nullable=False, index=True)
    zone_id: Mapped[int | None] = fk("zones.id", index=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    # 统一社会信用代码, GB 32100-2015
    credit_code: Mapped[str] = mapped_column(Ident(18), nullable=False, unique=True)
    founded_on: Mapped[date] = mapped_column(Date, nullable=False)
    industry: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active",
                                        index=True)
    merged_into_id: Mapped[int | None] = fk("cooperatives.id")
    # Charter (章程) settings
    distribution_method: Mapped[str] = mapped_column(String(16), nullable=False,
                                                     default="statutory")
    land_rate_fen_per_mu: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    labour_ticket_rate_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    single_member_cap_rate: Mapped[Decimal] = mapped_column(Numeric(9, 4), nullable=False,
                                                            default=Decimal("0.20"))
    collective_cap_applies: Mapped[bool] = mapped_column(Boolean, nullable=False,
                                                         default=False)
    # The cooperative's basic account (基本存款账户): where county awards and subsidies go.
    bank_name: Mapped[str | None] = mapped_column(String(64))
    bank_account_enc: Mapped[str | None] = mapped_column(Text)
    bank_account_hash: Mapped[str | None] = mapped_column(Ident(64))
    bank_account_masked: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow,
                                                 onupdate=utcnow)

    @hybrid_property
    def cooperative_id(self):
        return self.id


class Member(db.Model):
    __tablename__ = "members"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False, index=True)
    cooperative_id: Mapped[int] = fk("cooperatives.id", nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    member_type: Mapped[str] = mapped_column(String(16), nullable=False)
    id_card_enc: Mapped[str] = mapped_column(Text, nullable=False)
    id_card_hash: Mapped[str] = mapped_column(Ident(64), nullable=False)
    id_card_masked: Mapped[str] = mapped_column(String(32), nullable=False)
    phone: Mapped[str | None] = mapped_column(Ident(20))
    joined_on: Mapped[date] = mapped_column(Date, nullable=False)
    left_on: Mapped[date | None] = mapped_column(Date)
    leave_reason: Mapped[str | None] = mapped_column(String(255))
    # active | left | former (holds no shares any more; kept, flagged)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    bank_name: Mapped[str | None] = mapped_column(String(64))
    bank_account_enc: Mapped[str | None] = mapped_column(Text)
    bank_account_hash: Mapped[str | None] = mapped_column(Ident(64))
    bank_account_masked: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[created_at]
    # Exactly one collective member per cooperative: the column is the cooperative id
    # for the collective member and NULL otherwise, and NULLs never collide in a unique key.
    collective_of: Mapped[int | None] = mapped_column(BigInteger, unique=True)

    __table_args__ = (
        UniqueConstraint("cooperative_id", "id_card_hash"),
        db.Index("ix_members_coop_name", "cooperative_id", "name"),
    )

    @hybrid_property
    def member_id(self):
        return self.id


OFFICER_ROLES = ("chair", "director", "supervisor_chair", "supervisor", "accountant")
# 理事会 (board) and 监事会 (supervisory board): the seats the cross-appointment ratio counts.
BOARD_ROLES = ("chair", "director")
SUPERVISORY_ROLES = ("supervisor_chair", "supervisor")


class PersonColumns:
    """A natural person named on the register: the same encrypted/masked columns as Member."""

    name: Mapped[str] = mapped_column(String(64), nullable=False)
    id_card_enc: Mapped[str] = mapped_column(Text, nullable=False)
    id_card_hash: Mapped[str] = mapped_column(Ident(64), nullable=False)
    id_card_masked: Mapped[str] = mapped_column(String(32), nullable=False)
    phone: Mapped[str | None] = mapped_column(Ident(20))
    # Where the county pays this person's reward share (encrypted, masked, as members').
    bank_name: Mapped[str | None] = mapped_column(String(64))
    bank_account_enc: Mapped[str | None] = mapped_column(Text)
    bank_account_hash: Mapped[str | None] = mapped_column(Ident(64))
    bank_account_masked: Mapped[str | None] = mapped_column(String(40))


class Officer(PersonColumns, db.Model):
    """A seat on the board (理事会), the supervisory board (监事会), or the accountant."""

    __tablename__ = "cooperative_officers"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False, index=True)
    cooperative_id: Mapped[int] = fk("cooperatives.id", nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    # Sits on the village "two committees" (村两委): the cross-appointment (交叉任职) flag.
    village_committee_member: Mapped[bool] = mapped_column(Boolean, nullable=False,
                                                           default=False)
    start_on: Mapped[date] = mapped_column(Date, nullable=False)
    end_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[created_at]


class ProfessionalManager(PersonColumns, db.Model):
    """职业经理人: hired under a contract with base pay and an optional bonus rate."""

    __tablename__ = "professional_managers"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False, index=True)
    cooperative_id: Mapped[int] = fk("cooperatives.id", nullable=False, index=True)
    contract_start: Mapped[date] = mapped_column(Date, nullable=False)
    contract_end: Mapped[date] = mapped_column(Date, nullable=False)
    base_pay_fen_per_year: Mapped[int] = mapped_column(BigInteger, nullable=False)
    bonus_rate: Mapped[Decimal | None] = mapped_column(Numeric(9, 4))
    created_at: Mapped[created_at]

    __table_args__ = (db.Index("ix_professional_managers_person", "cooperative_id",
                               "id_card_hash"),)


class CooperativeStatusChange(db.Model):
    """One step of the lifecycle (规范提升 / 关停并转), kept forever."""

    __tablename__ = "cooperative_status_changes"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False, index=True)
    cooperative_id: Mapped[int] = fk("cooperatives.id", nullable=False, index=True)
    from_status: Mapped[str] = mapped_column(String(16), nullable=False)
    to_status: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str] = mapped_column(String(255), nullable=False)
    merged_into_id: Mapped[int | None] = fk("cooperatives.id")
    changed_by: Mapped[int | None] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # The day the change took effect (China's calendar): a past campaign is recorded with
    # its own date, and the figures by year count by it, not by `changed_at`.
    effective_on: Mapped[date] = mapped_column(Date, nullable=False, default=clock.today)


__all__ = ["CoopStatus", "COOP_STATUSES", "DISTRIBUTION_METHODS", "MEMBER_TYPES", "OFFICER_ROLES",
           "BOARD_ROLES", "SUPERVISORY_ROLES", "Cooperative", "Member", "Officer",
           "ProfessionalManager", "CooperativeStatusChange"]
