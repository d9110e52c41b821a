"""Tables of the county-money capability.

Village collective income (村集体经营性收入) per year: entered by the county, and fed
automatically by the collective member's distribution line. Each contribution is kept as
a row (the breakdown); the year's income is their sum.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coop.dbtypes import created_at, fk, intpk
from coop.extensions import db

INCOME_SOURCES = ("entered", "distribution")


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
