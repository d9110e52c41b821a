"""Cooperatives and members.

Sensitive numbers (ID card, bank account) are stored encrypted (`*_enc`), with a keyed
hash (`*_hash`) for uniqueness and a precomputed mask (`*_masked`) for responses, so a
list never has to decrypt anything. See coop/crypto.py.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Date, Numeric, String, Text, UniqueConstraint
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from coop.dbtypes import UTCDateTime, created_at, fk, intpk, utcnow
from coop.extensions import db

COOP_STATUSES = ("active", "standardized", "shell", "closed", "merged", "transformed")
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
    credit_code: Mapped[str] = mapped_column(String(18), nullable=False, unique=True)
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
    id_card_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    id_card_masked: Mapped[str] = mapped_column(String(32), nullable=False)
    phone: Mapped[str | None] = mapped_column(String(20))
    joined_on: Mapped[date] = mapped_column(Date, nullable=False)
    left_on: Mapped[date | None] = mapped_column(Date)
    leave_reason: Mapped[str | None] = mapped_column(String(255))
    # active | left | former (holds no shares any more; kept, flagged)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    bank_name: Mapped[str | None] = mapped_column(String(64))
    bank_account_enc: Mapped[str | None] = mapped_column(Text)
    bank_account_hash: Mapped[str | None] = mapped_column(String(64))
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
