"""Per-county settings of the places capability (CONTRACT §14).

The size of a demonstration zone (片区) differs between counties: Shan builds zones of
3–5 neighbouring villages, Wenshang's hold about ten. A county without a row here has
the defaults.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer
from sqlalchemy.orm import Mapped, Session, mapped_column

import coop.audit as audit
from coop.dbtypes import UTCDateTime, fk, utcnow
from coop.errors import RuleViolation
from coop.extensions import db

ZONE_MIN_VILLAGES, ZONE_MAX_VILLAGES = 3, 5
# A zone is a joint party committee of neighbouring villages: beyond this it is a town.
ZONE_VILLAGES_LIMIT = 30


class CountySettings(db.Model):
    __tablename__ = "county_settings"

    county_id: Mapped[int] = fk("counties.id", primary_key=True)
    zone_min_villages: Mapped[int] = mapped_column(Integer, nullable=False,
                                                   default=ZONE_MIN_VILLAGES)
    zone_max_villages: Mapped[int] = mapped_column(Integer, nullable=False,
                                                   default=ZONE_MAX_VILLAGES)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow,
                                                 onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("zone_min_villages >= 1 AND zone_min_villages <= zone_max_villages",
                        name="zone_size"),
    )


def zone_size(session: Session, county_id: int) -> tuple[int, int]:
    """(min, max) villages per zone in the county."""
    row = session.get(CountySettings, county_id)
    if row is None:
        return ZONE_MIN_VILLAGES, ZONE_MAX_VILLAGES
    return row.zone_min_villages, row.zone_max_villages


def set_zone_size(session: Session, actor, county_id: int, minimum: int, maximum: int
                  ) -> CountySettings:
    """Change the county's zone size; zones already built keep their villages (a zone
    outside the new bounds is refused only when it is next edited)."""
    if not (isinstance(minimum, int) and isinstance(maximum, int)
            and 1 <= minimum <= maximum <= ZONE_VILLAGES_LIMIT):
        raise RuleViolation(f"片区村数须满足 1 ≤ 最少 ≤ 最多 ≤ {ZONE_VILLAGES_LIMIT}",
                            code="ZONE_SIZE_INVALID",
                            errors={"zone_min_villages": [f"1..{ZONE_VILLAGES_LIMIT}, ≤ max"]})
    row = session.get(CountySettings, county_id)
    before = None
    if row is None:
        row = CountySettings(county_id=county_id)
        session.add(row)
    else:
        before = {"zone_min_villages": row.zone_min_villages,
                  "zone_max_villages": row.zone_max_villages}
    row.zone_min_villages, row.zone_max_villages = minimum, maximum
    session.flush()
    audit.record(session, actor, "county.settings", "county", county_id, before=before,
                 after={"zone_min_villages": minimum, "zone_max_villages": maximum})
    return row
