"""Cities (地级市) and the counties under them (CONTRACT §14).

A city compares its counties: its `city_viewer` users read every county of the city
(auth/policy.py widens a city grant to the city's counties when it authenticates), and
the city dashboard and payout report add the counties' figures up. A county belongs to
at most one city (`counties.city_id`); cities and their counties are set up from the
command line (`flask cities create`, `flask counties create --city-code`).
"""
from __future__ import annotations

import re

from sqlalchemy import String, exists, select
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, Session, mapped_column

import coop.audit as audit
from coop.dbtypes import created_at, intpk
from coop.errors import Conflict, NotFound, RuleViolation
from coop.extensions import db
from coop.places.models import County
from coop.transaction import flush_or_conflict


class City(db.Model):
    __tablename__ = "cities"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    # 6-digit administrative division code of a prefecture-level city (菏泽市 371700).
    code: Mapped[str] = mapped_column(String(6), nullable=False, unique=True)
    created_at: Mapped[created_at]

    @hybrid_property
    def city_id(self):
        """A city is its own scope (policy reads `city_id` for a `city` grant)."""
        return self.id


def city_dict(city: City) -> dict:
    return {"id": city.id, "name": city.name, "code": city.code}


def create_city(session: Session, actor, *, name: str, code: str) -> City:
    """A city (地级市): its code is 6 ASCII digits ending in 00, as prefecture codes do."""
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise RuleViolation("请填写市名称（不超过 64 字）", errors={"name": ["1..64 chars"]})
    if not isinstance(code, str) or not re.fullmatch(r"[0-9]{4}00", code):
        raise RuleViolation("地级市行政区划代码须为 6 位数字并以 00 结尾",
                            code="CITY_CODE_INVALID", errors={"code": ["6 digits, ending 00"]})
    taken = Conflict("该地级市区划代码已存在", code="CITY_CODE_TAKEN")
    if session.execute(select(exists().where(City.code == code))).scalar():
        raise taken
    city = City(name=name, code=code)
    session.add(city)
    flush_or_conflict(session, taken)
    audit.record(session, actor, "city.create", "city", city.id, after=city_dict(city))
    return city


def city_by_code(session: Session, code: str) -> City:
    city = session.execute(select(City).where(City.code == code)).scalar_one_or_none()
    if city is None:
        raise NotFound(f"地级市 {code} 不存在")
    return city


def attach_county(session: Session, actor, county: County, city: City) -> County:
    """Put `county` under `city`. A county's code lies inside its city's (371725 under
    371700): a county of another city is refused, so a typo never moves it."""
    if county.code[:4] != city.code[:4]:
        raise RuleViolation(f"县代码 {county.code} 不属于 {city.name}（{city.code}）",
                            code="COUNTY_OUTSIDE_CITY",
                            errors={"city_code": [f"county code must start {city.code[:4]}"]})
    before = {"city_id": county.city_id}
    county.city_id = city.id
    session.flush()
    audit.record(session, actor, "county.city", "county", county.id, before=before,
                 after={"city_id": city.id})
    return county


def counties_of(session: Session, city: City) -> list[County]:
    """The city's counties, by code (the order the city's statistics list them)."""
    return list(session.execute(select(County).where(County.city_id == city.id)
                                .order_by(County.code, County.id)).scalars())
