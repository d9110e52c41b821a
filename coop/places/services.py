"""Places use cases: counties, towns (乡镇/街道), villages (行政村), zones (片区).

The routes have already checked the caller's role and that the parent object (county or
town) lies inside their scope; these functions check the rules of the places themselves.
Statistical division codes (统计用区划代码) nest: a county has 6 digits, its towns 9 and
their villages 12, each starting with its parent's code.
"""
from __future__ import annotations

import re

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from auth.models import User
import coop.audit as audit
from coop.errors import Conflict, Forbidden, NotFound, RuleViolation
import coop.clock as clock
from coop.places import secretaries, settings
from coop.places.models import County, Town, Village, Zone, ZoneVillage
from coop.transaction import flush_or_conflict


def _is_code(code, digits: int, prefix: str = "") -> bool:
    # ASCII digits only: str.isdigit() and \d also accept full-width and other digits.
    return (isinstance(code, str) and re.fullmatch(f"[0-9]{{{digits}}}", code) is not None
            and code.startswith(prefix))


def county_dict(county: County) -> dict:
    return {"id": county.id, "name": county.name, "code": county.code}


def town_dict(town: Town) -> dict:
    return {"id": town.id, "county_id": town.county_id, "name": town.name, "code": town.code}


def village_dict(village: Village, secretary_name: str | None) -> dict:
    return {"id": village.id, "county_id": village.county_id, "town_id": village.town_id,
            "name": village.name, "code": village.code,
            "party_secretary_name": secretary_name}


def village_dicts(session: Session, villages: list[Village]) -> list[dict]:
    """Villages as responses show them: the secretary is today's (dated terms)."""
    names = secretaries.current_names(session, villages)
    return [village_dict(v, names[v.id]) for v in villages]


def _insert(session: Session, obj, conflict: Conflict):
    """Add and flush; a unique key lost to a concurrent writer is the same conflict."""
    session.add(obj)
    flush_or_conflict(session, conflict)
    return obj


def create_county(session: Session, actor: User | None, *, name: str, code: str) -> County:
    """A county (县). Only a superuser (or the CLI, actor None) creates counties."""
    if actor is not None and not actor.is_superuser:
        raise Forbidden("只有超级管理员可以创建县")
    if not _is_code(code, 6):
        raise RuleViolation("县级行政区划代码须为 6 位数字", code="COUNTY_CODE_INVALID",
                            errors={"code": ["6 digits"]})
    taken = Conflict("该县级区划代码已存在", code="COUNTY_CODE_TAKEN")
    if session.execute(select(exists().where(County.code == code))).scalar():
        raise taken
    county = _insert(session, County(name=name, code=code), taken)
    audit.record(session, actor, "county.create", "county", county.id, after=county_dict(county))
    return county


def create_town(session: Session, actor: User, county: County, *, name: str,
                code: str | None = None) -> Town:
    """A town or street office (乡镇/街道) of `county`; its 9-digit code is optional."""
    if code is not None and not _is_code(code, 9, county.code):
        raise RuleViolation(f"乡镇区划代码须为 9 位数字并以县代码 {county.code} 开头",
                            code="TOWN_CODE_INVALID", errors={"code": ["9 digits, county prefix"]})
    taken = Conflict("本县已有同名乡镇", code="TOWN_NAME_TAKEN")
    if session.execute(select(exists().where(Town.county_id == county.id,
                                             Town.name == name))).scalar():
        raise taken
    town = _insert(session, Town(county_id=county.id, name=name, code=code), taken)
    audit.record(session, actor, "town.create", "town", town.id, after=town_dict(town))
    return town


def create_village(session: Session, actor: User, town: Town, *, name: str, code: str,
                   party_secretary_name: str | None = None) -> Village:
    """An administrative village (行政村) of `town`, with its 12-digit code."""
    county = session.get(County, town.county_id)
    prefix = town.code or county.code
    if not _is_code(code, 12, prefix):
        raise RuleViolation(f"村级区划代码须为 12 位数字并以 {prefix} 开头",
                            code="VILLAGE_CODE_INVALID",
                            errors={"code": [f"12 digits starting {prefix}"]})
    taken = Conflict("该村级区划代码已存在", code="VILLAGE_CODE_TAKEN")
    if session.execute(select(exists().where(Village.code == code))).scalar():
        raise taken
    village = _insert(session, Village(county_id=town.county_id, town_id=town.id, name=name,
                                       code=code), taken)
    audit.record(session, actor, "village.create", "village", village.id,
                 after=village_dict(village, party_secretary_name))
    if party_secretary_name:
        # The name given at creation opens a term from today (CONTRACT §10).
        secretaries.add_term(session, actor, village, {
            "person": {"name": party_secretary_name}, "start_on": clock.today()})
    return village


def zone_village_ids(session: Session, zone_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {zid: [] for zid in zone_ids}
    if zone_ids:
        rows = session.execute(select(ZoneVillage.zone_id, ZoneVillage.village_id)
                               .where(ZoneVillage.zone_id.in_(zone_ids))
                               .order_by(ZoneVillage.village_id))
        for zone_id, village_id in rows:
            out[zone_id].append(village_id)
    return out


def zone_dicts(session: Session, zones: list[Zone]) -> list[dict]:
    villages = zone_village_ids(session, [z.id for z in zones])
    return [{"id": z.id, "county_id": z.county_id, "town_id": z.town_id, "name": z.name,
             "secretary_name": z.secretary_name, "village_ids": villages[z.id]} for z in zones]


def _zone_villages(session: Session, county: County, town: Town, village_ids: list[int],
                   zone: Zone | None = None) -> list[Village]:
    """The villages of a zone being built (or `zone` being changed): as many as the
    county's setting allows, of one town, in no other zone."""
    if len(set(village_ids)) != len(village_ids):
        raise RuleViolation("村不能重复", code="ZONE_VILLAGES_INVALID",
                            errors={"village_ids": ["duplicate village"]})
    low, high = settings.zone_size(session, county.id)
    if not low <= len(village_ids) <= high:
        raise RuleViolation(f"本县片区由 {low}–{high} 个村组成", code="ZONE_VILLAGES_INVALID",
                            errors={"village_ids": [f"{low} to {high} villages"]})
    villages = session.execute(select(Village).where(Village.id.in_(village_ids),
                                                     Village.county_id == county.id)
                               ).scalars().all()
    if len(villages) != len(village_ids):
        raise NotFound("村不存在或不在本县")
    if any(v.town_id != town.id for v in villages):
        raise RuleViolation("片区的村须属于同一乡镇", code="ZONE_VILLAGES_INVALID",
                            errors={"village_ids": ["villages of one town only"]})
    zoned = session.execute(select(ZoneVillage.village_id).where(
        ZoneVillage.village_id.in_(village_ids),
        ZoneVillage.zone_id != (zone.id if zone is not None else 0))).scalars().all()
    if zoned:
        raise RuleViolation("村已属于其他片区", code="VILLAGE_ALREADY_IN_ZONE",
                            errors={"village_ids": [f"already in a zone: {sorted(zoned)}"]})
    return villages


def _check_zone_secretary(session: Session, villages: list[Village],
                          secretary_name: str | None) -> None:
    if secretary_name is not None and secretary_name not in set(
            secretaries.current_names(session, villages).values()):
        raise RuleViolation("片区书记须从片区内各村党支部书记中产生",
                            code="ZONE_SECRETARY_INVALID",
                            errors={"secretary_name": ["not a secretary of these villages"]})


def create_zone(session: Session, actor: User, county: County, *, name: str, town_id: int,
                village_ids: list[int], secretary_name: str | None = None) -> dict:
    """A demonstration zone (片区): villages of one town (as many as the county's setting
    allows, 3–5 by default), none already in a zone; its secretary (联合党委书记) is one of
    the villages' party secretaries."""
    town = session.get(Town, town_id)
    if town is None or town.county_id != county.id:
        raise NotFound("乡镇不存在或不在本县")
    villages = _zone_villages(session, county, town, village_ids)
    _check_zone_secretary(session, villages, secretary_name)
    zone = Zone(county_id=county.id, town_id=town.id, name=name, secretary_name=secretary_name)
    session.add(zone)
    session.flush()
    session.add_all([ZoneVillage(zone_id=zone.id, village_id=v) for v in village_ids])
    flush_or_conflict(session, RuleViolation("村已属于其他片区", code="VILLAGE_ALREADY_IN_ZONE"))
    out = zone_dicts(session, [zone])[0]
    audit.record(session, actor, "zone.create", "zone", zone.id, after=out)
    return out


def update_zone(session: Session, actor: User, zone: Zone, values: dict) -> dict:
    """PATCH /zones/{id}: rename, change the villages (same rules as at creation; the
    villages left out leave the zone) or the secretary, who must be a secretary of the
    zone's villages as they are after the change."""
    before = zone_dicts(session, [zone])[0]
    county = session.get(County, zone.county_id)
    village_ids = values.get("village_ids", before["village_ids"])
    villages = _zone_villages(session, county, session.get(Town, zone.town_id), village_ids,
                              zone)
    secretary_name = values.get("secretary_name", zone.secretary_name)
    if "village_ids" in values or "secretary_name" in values:
        _check_zone_secretary(session, villages, secretary_name)
    zone.name = values.get("name", zone.name)
    zone.secretary_name = secretary_name
    if "village_ids" in values:
        kept = set(before["village_ids"])
        wanted = set(village_ids)
        if kept - wanted:
            session.execute(delete(ZoneVillage).where(ZoneVillage.zone_id == zone.id,
                                                      ZoneVillage.village_id.in_(kept - wanted)))
        session.add_all([ZoneVillage(zone_id=zone.id, village_id=v)
                         for v in sorted(wanted - kept)])
    flush_or_conflict(session, RuleViolation("村已属于其他片区", code="VILLAGE_ALREADY_IN_ZONE"))
    after = zone_dicts(session, [zone])[0]
    audit.record(session, actor, "zone.update", "zone", zone.id, before=before, after=after)
    return after
