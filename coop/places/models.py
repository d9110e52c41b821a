"""County (县), town (乡镇/街道), village (行政村) and zone (片区).

Each row carries `county_id` (a County is its own) so the policy layer can scope it.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String, Text, UniqueConstraint
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from coop.dbtypes import Ident, created_at, fk, intpk
from coop.extensions import db


class County(db.Model):
    __tablename__ = "counties"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    code: Mapped[str] = mapped_column(String(6), nullable=False, unique=True)
    city_id: Mapped[int | None] = fk("cities.id", index=True)  # coop/places/cities.py
    created_at: Mapped[created_at]

    @hybrid_property
    def county_id(self):
        return self.id


class Town(db.Model):
    __tablename__ = "towns"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    code: Mapped[str | None] = mapped_column(String(9))
    created_at: Mapped[created_at]

    __table_args__ = (UniqueConstraint("county_id", "name"),)


class Village(db.Model):
    __tablename__ = "villages"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False, index=True)
    town_id: Mapped[int] = fk("towns.id", nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    # 12-digit statistical division code (统计用区划代码)
    code: Mapped[str] = mapped_column(String(12), nullable=False, unique=True)
    # The name of the secretary in office when the terms last changed: a record kept for
    # old readers. What people see and rules judge is read from the dated terms
    # (VillageSecretary, coop/places/secretaries.py), never from this column.
    party_secretary_name: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[created_at]


class VillageSecretary(db.Model):
    """A term of a village party organisation's secretary (村党组织书记): dated, kept for
    ever. Terms of one village never overlap; `end_on` NULL is a term still running."""

    __tablename__ = "village_secretaries"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False, index=True)
    village_id: Mapped[int] = fk("villages.id", nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    id_card_enc: Mapped[str | None] = mapped_column(Text)
    id_card_hash: Mapped[str | None] = mapped_column(Ident(64))
    id_card_masked: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(Ident(20))
    start_on: Mapped[date] = mapped_column(Date, nullable=False)
    end_on: Mapped[date | None] = mapped_column(Date)
    bank_name: Mapped[str | None] = mapped_column(String(64))
    bank_account_enc: Mapped[str | None] = mapped_column(Text)
    bank_account_hash: Mapped[str | None] = mapped_column(Ident(64))
    bank_account_masked: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[created_at]


class Zone(db.Model):
    """A demonstration zone: 3–5 neighbouring villages of one town under a joint committee."""

    __tablename__ = "zones"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False, index=True)
    town_id: Mapped[int] = fk("towns.id", nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    secretary_name: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[created_at]


class ZoneVillage(db.Model):
    __tablename__ = "zone_villages"

    zone_id: Mapped[int] = fk("zones.id", primary_key=True)
    # A village belongs to at most one zone.
    village_id: Mapped[int] = fk("villages.id", primary_key=True, unique=True)
