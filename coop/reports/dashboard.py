"""The county dashboard (县级看板): the figures the county reports upward (domain.md).

Each figure is one aggregate query over the county's rows — never a query per
cooperative or village — so the dashboard costs the same number of statements for 15
cooperatives or 1,500.

* cooperatives by status, and how many were standardized (规范提升) during the year;
* villages whose collective income (村集体经营性收入) reached each threshold (default
  100,000 and 500,000 yuan) this year and last;
* wages paid to villagers and labour-days, from the cooperatives' annual accounts;
* payouts by source (distribution, reward, subsidy): issued, paid net of reversals,
  pending, failed;
* the cross-appointment ratio (交叉任职): people on the boards and supervisory boards
  of running cooperatives who also sit on the village committee, over all those people;
* zone income (片区) vs the county: average collective income per village.
"""
from __future__ import annotations

from datetime import date
from typing import Sequence

from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.orm import Session

from coop.county.models import CollectiveIncomeItem
from coop.distribution.models import AnnualAccount
from coop.payouts.models import SOURCES, PayoutLine
from coop.places.models import County, Village, Zone, ZoneVillage
from coop.reports.figures import (DEFAULT_INCOME_THRESHOLDS_FEN, as_of_day, county_figures,
                                  figures_of_counties, total)
from coop.registry.models import (BOARD_ROLES, COOP_STATUSES, SUPERVISORY_ROLES, Cooperative,
                                  CooperativeStatusChange, Officer)
from coop.shares.rules import ratio_string

# Cooperatives that no longer run: their officers' seats are not counted.
ENDED_STATUSES = ("closed", "merged", "transformed")


def cooperatives_by_status(session: Session, county_id: int) -> dict:
    """{by_status: {status: n} (every status, zeros included), total, standardized}."""
    counts = dict(session.execute(
        select(Cooperative.status, func.count(Cooperative.id))
        .where(Cooperative.county_id == county_id).group_by(Cooperative.status)).all())
    by_status = {status: int(counts.get(status, 0)) for status in COOP_STATUSES}
    return {"by_status": by_status, "total": sum(by_status.values()),
            "standardized": by_status["standardized"]}


def standardized_during(session: Session, county_id: int, year: int) -> int:
    """Cooperatives whose move to `standardized` took effect during `year`."""
    return int(session.execute(
        select(func.count(func.distinct(CooperativeStatusChange.cooperative_id)))
        .where(CooperativeStatusChange.county_id == county_id,
               CooperativeStatusChange.to_status == "standardized",
               CooperativeStatusChange.effective_on >= date(year, 1, 1),
               CooperativeStatusChange.effective_on <= date(year, 12, 31))).scalar_one())


def villages_by_income(session: Session, county_id: int, year: int,
                       thresholds_fen: Sequence[int] = DEFAULT_INCOME_THRESHOLDS_FEN) -> list:
    """[{threshold_fen, this_year, last_year}]: villages whose income for the year (the
    sum of its items) is at least the threshold."""
    per_village = (select(CollectiveIncomeItem.year.label("year"),
                          func.sum(CollectiveIncomeItem.amount_fen).label("income"))
                   .where(CollectiveIncomeItem.county_id == county_id,
                          CollectiveIncomeItem.source == "entered",
                          CollectiveIncomeItem.year.in_((year - 1, year)))
                   .group_by(CollectiveIncomeItem.village_id, CollectiveIncomeItem.year)
                   .subquery())
    counts = [func.sum(case((per_village.c.income >= threshold, 1), else_=0))
              for threshold in thresholds_fen]
    rows = {row[0]: row[1:] for row in session.execute(
        select(per_village.c.year, *counts).group_by(per_village.c.year))}
    zeros = (0,) * len(thresholds_fen)
    return [{"threshold_fen": int(threshold),
             "this_year": int(rows.get(year, zeros)[i] or 0),
             "last_year": int(rows.get(year - 1, zeros)[i] or 0)}
            for i, threshold in enumerate(thresholds_fen)]


def payouts_by_source(session: Session, county_id: int, year: int) -> dict:
    """Per source: lines, amount issued (reversals left out: the batches' total), net
    amount paid (paid lines less their reversals), pending and failed amounts.

    Grouped by (source, status), the order of a covering index on
    (county_id, year, source, status, …), and folded here: at most 12 rows."""
    reversal = case((PayoutLine.reverses_id.is_not(None), PayoutLine.amount_fen), else_=0)
    rows = session.execute(
        select(PayoutLine.source, PayoutLine.status, func.count(PayoutLine.id),
               func.sum(PayoutLine.amount_fen), func.sum(reversal))
        .where(PayoutLine.county_id == county_id, PayoutLine.year == year)
        .group_by(PayoutLine.source, PayoutLine.status)).all()
    keys = ("line_count", "issued_fen", "paid_fen", "pending_fen", "failed_fen")
    out = {source: dict.fromkeys(keys, 0) for source in SOURCES}
    for source, status, count, fen, reversed_fen in rows:
        fen, reversed_fen = int(fen or 0), int(reversed_fen or 0)
        bucket = out.setdefault(source, dict.fromkeys(keys, 0))
        bucket["line_count"] += int(count)
        bucket["issued_fen"] += fen - reversed_fen
        bucket["paid_fen"] += fen if status == "paid" else reversed_fen
        if status in ("pending", "failed"):
            bucket[f"{status}_fen"] += fen
    return out


def wages_and_labour(session: Session, county_id: int, year: int) -> dict:
    """Wages paid to villagers and labour-days from the year's annual accounts (年度账目)."""
    wages, days, reporting = session.execute(
        select(func.coalesce(func.sum(AnnualAccount.wages_paid_fen), 0),
               func.coalesce(func.sum(AnnualAccount.labour_days), 0),
               func.count(AnnualAccount.id))
        .where(AnnualAccount.county_id == county_id, AnnualAccount.year == year)).one()
    return {"wages_paid_fen": int(wages), "labour_days": int(days),
            "cooperatives_reporting": int(reporting)}


def cross_appointment(session: Session, county_id: int, as_of: date) -> dict:
    """People on a board or supervisory board on `as_of` in running cooperatives, and how
    many of them sit on the village committee (村两委). As in the cooperative's own
    compliance figure, a person holding two seats in one cooperative counts once."""
    people = (select(func.max(case((Officer.village_committee_member.is_(True), 1),
                                   else_=0)).label("crossed"))
              .join(Cooperative, Cooperative.id == Officer.cooperative_id)
              .where(Officer.county_id == county_id,
                     Officer.role.in_(BOARD_ROLES + SUPERVISORY_ROLES),
                     Officer.start_on <= as_of,
                     or_(Officer.end_on.is_(None), Officer.end_on >= as_of),
                     Cooperative.status.not_in(ENDED_STATUSES))
              .group_by(Officer.cooperative_id, Officer.id_card_hash).subquery())
    total, crossed = session.execute(
        select(func.count(), func.coalesce(func.sum(people.c.crossed), 0))).one()
    total, crossed = int(total or 0), int(crossed or 0)
    return {"as_of": as_of, "village_committee_officers": crossed,
            "board_and_supervisory_officers": total,
            "ratio": ratio_string(crossed, total) if total else None}


def zone_income(session: Session, county_id: int, year: int) -> dict:
    """Average collective income per village in each zone beside the county's average
    over all its villages (a village without income counts as zero)."""
    income = (select(CollectiveIncomeItem.village_id.label("village_id"),
                     func.sum(CollectiveIncomeItem.amount_fen).label("income"))
              .where(CollectiveIncomeItem.county_id == county_id,
                     CollectiveIncomeItem.source == "entered",
                     CollectiveIncomeItem.year == year)
              .group_by(CollectiveIncomeItem.village_id).subquery())
    rows = session.execute(
        select(ZoneVillage.zone_id, Zone.name, func.count(Village.id),
               func.coalesce(func.sum(income.c.income), literal(0)))
        .select_from(Village)
        .outerjoin(income, income.c.village_id == Village.id)
        .outerjoin(ZoneVillage, ZoneVillage.village_id == Village.id)
        .outerjoin(Zone, Zone.id == ZoneVillage.zone_id)
        .where(Village.county_id == county_id)
        .group_by(ZoneVillage.zone_id, Zone.name).order_by(ZoneVillage.zone_id)).all()
    villages = sum(int(r[2]) for r in rows)
    total = sum(int(r[3]) for r in rows)
    zones = []
    for zone_id, name, count, zone_total in rows:
        if zone_id is None:
            continue
        count, zone_total = int(count), int(zone_total)
        zones.append({"zone_id": zone_id, "name": name, "villages": count,
                      "income_fen": zone_total, "average_fen": _average(zone_total, count),
                      # (zone_total / count) / (total / villages), exactly, 4 places
                      "ratio_to_county": (ratio_string(zone_total * villages, total * count)
                                          if total > 0 else None)})
    return {"year": year, "county_villages": villages, "county_income_fen": total,
            "county_average_fen": _average(total, villages), "zones": zones}


def _average(total_fen: int, count: int) -> int:
    """Mean in whole fen, rounded half away from zero, in integers (0 for no villages)."""
    if count == 0:
        return 0
    quotient, remainder = divmod(abs(total_fen), count)
    if 2 * remainder >= count:
        quotient += 1
    return quotient if total_fen >= 0 else -quotient


def dashboard(session: Session, county: County, year: int, today: date,
              thresholds_fen: Sequence[int] = DEFAULT_INCOME_THRESHOLDS_FEN,
              baseline_year: int | None = None) -> dict:
    """Every dashboard figure of `county` for `year`; officers are counted on 31 December
    of that year, or today while the year is still running. `figures` are the ones the
    county reports publish (coop/reports/figures.py, docs/figures.md)."""
    as_of = min(date(year, 12, 31), today)
    cooperatives = cooperatives_by_status(session, county.id)
    cooperatives["standardized_during_year"] = standardized_during(session, county.id, year)
    return {
        "county_id": county.id, "year": year, "cooperatives": cooperatives,
        "villages_by_collective_income": villages_by_income(session, county.id, year,
                                                            thresholds_fen),
        "wages": wages_and_labour(session, county.id, year),
        "payouts_by_source": payouts_by_source(session, county.id, year),
        "cross_appointment": cross_appointment(session, county.id, as_of),
        "zone_income": zone_income(session, county.id, year),
        "figures": county_figures(session, county.id, year, today, baseline_year,
                                  thresholds_fen),
    }


def city_dashboard(session: Session, city, counties: list[County], year: int, today: date,
                   thresholds_fen: Sequence[int] = DEFAULT_INCOME_THRESHOLDS_FEN,
                   baseline_year: int | None = None) -> dict:
    """The city's dashboard: each county's published figures and their total (sums, and
    ratios recomputed from the sums)."""
    baseline_year = year - 1 if baseline_year is None else baseline_year
    per_county = figures_of_counties(session, [c.id for c in counties], year, today,
                                     baseline_year, thresholds_fen)
    rows = [{"county_id": c.id, "name": c.name, "code": c.code, **per_county[c.id]}
            for c in counties]
    return {"city_id": city.id, "name": city.name, "year": year, "baseline_year": baseline_year,
            "as_of": as_of_day(year, today), "counties": rows,
            "total": total([per_county[c.id] for c in counties], year, baseline_year,
                           as_of_day(year, today), thresholds_fen)}
