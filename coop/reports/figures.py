"""The figures the county reports publish (CONTRACT §14), for one county or a city.

Every figure is defined in docs/figures.md (what counts, as of which date). This module
is the one place they are computed: the API dashboard (county and city), the console's
dashboard and the xlsx county report all call `figures_of_counties` / `county_figures`.

Each query reads all the counties at once (grouped by county, or a few thousand rows
folded here), so a city of nine counties costs the same statements as one county. A
county's figures are first kept as additive counts (numerators and denominators);
`finish` derives the ratios and per-village amounts from them. A city's total adds the
counts of its counties and then derives — a ratio of sums, never a mean of the
counties' ratios.

Dates: the year's figures are taken on `as_of` = 31 December of the year, or today while
the year is still running (China's calendar). A cooperative's status on a day is read
from its status changes' `effective_on`, so a campaign recorded afterwards with its own
dates counts in its own year.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Iterable, Sequence

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from auth.models import RoleAssignment
from coop.county.models import CollectiveIncomeItem
from coop.distribution.models import AnnualAccount, DistributionLine, DistributionPlan, PlanStatus
from coop.places.models import VillageSecretary
from coop.registry.models import (BOARD_ROLES, COOP_STATUSES, SUPERVISORY_ROLES, Cooperative,
                                  CooperativeStatusChange, Member, Officer,
                                  ProfessionalManager)
from coop.shares.rules import ratio_string

# 10万元 and 50万元 in fen: the county's reporting thresholds (app config may override).
DEFAULT_INCOME_THRESHOLDS_FEN = (10_000_000, 50_000_000)
# Cooperatives that no longer run (a shell closed, merged or transformed: 关停并转).
ENDED_STATUSES = ("closed", "merged", "transformed")
ENTERED = "entered"     # the collective income figure the county enters (issue 15)

# Counts that add up across counties (a city's total is their sum).
ADDITIVE = (
    "cooperatives_total", "standardized", "secretary_chairs", "chaired_cooperatives",
    "cross_appointed_officers", "board_and_supervisory_officers", "professional_managers",
    "commissioners", "cooperatives_with_commissioner", "collective_income_fen",
    "villages_with_income", "collective_income_increase_fen", "villages_compared",
    "wages_paid_fen", "labour_person_times", "cooperatives_reporting_accounts",
    "dividends_paid_fen",
)


def as_of_day(year: int, today: date) -> date:
    """The day a year's figures are taken: 31 December, or today while the year runs."""
    return min(date(year, 12, 31), today)


def _empty(year: int, baseline_year: int, as_of: date, thresholds: Sequence[int]) -> dict:
    out = {"year": year, "baseline_year": baseline_year, "as_of": as_of,
           "cooperatives_by_status": dict.fromkeys(COOP_STATUSES, 0),
           "shells_cleared": {"closed": 0, "merged": 0, "transformed": 0, "total": 0},
           "villages_income_at_least": [{"threshold_fen": int(t), "this_year": 0,
                                         "baseline_year": 0} for t in thresholds]}
    out.update(dict.fromkeys(ADDITIVE, 0))
    return out


# --- the queries: each reads all the counties at once ------------------------------------

def _status_on(county_ids: list[int], day: date):
    """SELECT (id, county_id, village_id, status): each cooperative founded by `day`
    with its status on `day` — the last change in effect by then, else the state the
    first later change started from, else (no change recorded) its status now."""
    change = CooperativeStatusChange
    before = (select(change.cooperative_id.label("cid"), func.max(change.id).label("cid_last"))
              .where(change.county_id.in_(county_ids), change.effective_on <= day)
              .group_by(change.cooperative_id).subquery())
    later = (select(change.cooperative_id.label("cid"), func.min(change.id).label("cid_next"))
             .where(change.county_id.in_(county_ids), change.effective_on > day)
             .group_by(change.cooperative_id).subquery())
    last, nxt = aliased(change), aliased(change)
    status = func.coalesce(last.to_status, nxt.from_status, Cooperative.status)
    return (select(Cooperative.id, Cooperative.county_id, Cooperative.village_id, status)
            .outerjoin(before, before.c.cid == Cooperative.id)
            .outerjoin(last, last.id == before.c.cid_last)
            .outerjoin(later, later.c.cid == Cooperative.id)
            .outerjoin(nxt, nxt.id == later.c.cid_next)
            .where(Cooperative.county_id.in_(county_ids), Cooperative.founded_on <= day))


def _by_status(session: Session, county_ids, day: date, out: dict) -> dict[int, tuple]:
    """Count the cooperatives by their status on `day`; return the running ones
    {id: (county id, village id)} for the figures below.

    The figures below read their rows by county and keep those of running cooperatives
    here, in Python: joined in SQL to this status subquery, MariaDB re-reads it for each
    figure (docs/performance.md, the city dashboard)."""
    running = {}
    for coop_id, county_id, village_id, status in session.execute(_status_on(county_ids, day)):
        figures = out[county_id]
        figures["cooperatives_by_status"][status] += 1
        figures["cooperatives_total"] += 1
        if status not in ENDED_STATUSES:
            running[coop_id] = (county_id, village_id)
    return running


def _changes_in_year(session: Session, county_ids, year: int, out: dict) -> None:
    """Shells cleared (closed, merged, transformed) and cooperatives standardized: those
    whose change took effect during the year, each cooperative once per kind."""
    change = CooperativeStatusChange
    rows = session.execute(
        select(change.county_id, change.to_status,
               func.count(func.distinct(change.cooperative_id)))
        .where(change.county_id.in_(county_ids),
               change.to_status.in_(ENDED_STATUSES + ("standardized",)),
               change.effective_on >= date(year, 1, 1),
               change.effective_on <= date(year, 12, 31))
        .group_by(change.county_id, change.to_status))
    for county_id, status, n in rows:
        figures = out[county_id]
        if status == "standardized":
            figures["standardized"] = int(n)
        else:
            figures["shells_cleared"][status] = int(n)
            figures["shells_cleared"]["total"] += int(n)


def _in_office(start, end, day: date):
    return and_(start <= day, or_(end.is_(None), end >= day))


def _officers(session: Session, county_ids, running: dict, day: date, out: dict) -> None:
    """From the boards and supervisory boards on `day` of running cooperatives:

    * the secretary-chair ratio — cooperatives with a chair, and how many of those chairs
      are the village's party secretary in office that day: the same person by ID card
      where the secretary's is on record, else by name;
    * cross-appointment — the people on them, and how many sit on the village committee
      (村两委); a person with two seats in one cooperative counts once (as the
      cooperative's own compliance figure does), on the committee if any seat says so.

    The seats are counted per cooperative in SQL (a row per cooperative, not per seat:
    pymysql parses every row in Python)."""
    in_office = _in_office(Officer.start_on, Officer.end_on, day)
    secretary = {village_id: (card, name) for village_id, card, name in session.execute(
        select(VillageSecretary.village_id, VillageSecretary.id_card_hash, VillageSecretary.name)
        .where(VillageSecretary.county_id.in_(county_ids),
               _in_office(VillageSecretary.start_on, VillageSecretary.end_on, day)))}
    chaired: dict[int, bool] = {}
    for coop_id, card, name in session.execute(
            select(Officer.cooperative_id, Officer.id_card_hash, Officer.name)
            .where(Officer.county_id.in_(county_ids), Officer.role == "chair", in_office)):
        if coop_id in running:
            term = secretary.get(running[coop_id][1])
            same = term is not None and (term[0] == card if term[0] is not None
                                         else term[1] == name)
            chaired[coop_id] = chaired.get(coop_id, False) or same
    for coop_id, same in chaired.items():
        figures = out[running[coop_id][0]]
        figures["chaired_cooperatives"] += 1
        figures["secretary_chairs"] += int(same)
    crossed = case((Officer.village_committee_member.is_(True), Officer.id_card_hash))
    for coop_id, people, on_committee in session.execute(
            select(Officer.cooperative_id, func.count(func.distinct(Officer.id_card_hash)),
                   func.count(func.distinct(crossed)))
            .where(Officer.county_id.in_(county_ids),
                   Officer.role.in_(BOARD_ROLES + SUPERVISORY_ROLES), in_office)
            .group_by(Officer.cooperative_id)):
        if coop_id in running:
            figures = out[running[coop_id][0]]
            figures["board_and_supervisory_officers"] += int(people)
            figures["cross_appointed_officers"] += int(on_committee)


def _managers_and_commissioners(session: Session, county_ids, running: dict, day: date,
                                out: dict) -> None:
    """Professional managers under contract on `day` in running cooperatives (a person
    once per county); commissioners paired now with running cooperatives (a user once
    per county) and the cooperatives that have one."""
    managers: dict[int, set] = {}
    for coop_id, card in session.execute(
            select(ProfessionalManager.cooperative_id, ProfessionalManager.id_card_hash)
            .where(ProfessionalManager.county_id.in_(county_ids),
                   ProfessionalManager.contract_start <= day,
                   ProfessionalManager.contract_end >= day)):
        if coop_id in running:
            managers.setdefault(running[coop_id][0], set()).add(card)
    users: dict[int, set] = {}
    paired: dict[int, set] = {}
    for user_id, coop_id in session.execute(
            select(RoleAssignment.user_id, RoleAssignment.scope_id)
            .join(Cooperative, Cooperative.id == RoleAssignment.scope_id)
            .where(RoleAssignment.role == "commissioner",
                   RoleAssignment.scope_type == "cooperative",
                   Cooperative.county_id.in_(county_ids))):
        if coop_id in running:
            county_id = running[coop_id][0]
            users.setdefault(county_id, set()).add(user_id)
            paired.setdefault(county_id, set()).add(coop_id)
    for county_id, figures in out.items():
        figures["professional_managers"] = len(managers.get(county_id, ()))
        figures["commissioners"] = len(users.get(county_id, ()))
        figures["cooperatives_with_commissioner"] = len(paired.get(county_id, ()))


def _collective_income(session: Session, county_ids, year: int, baseline_year: int,
                       thresholds: Sequence[int], out: dict) -> None:
    """From the entered figures only (dividends are never added): the year's total over
    the villages that have a figure; the increase over the villages that have figures for
    both the year and the year before (a missing year is a gap, never zero); villages at
    or above each threshold in the year and in the baseline year. Summed in SQL, one row
    per county and year, not a row per village (pymysql parses each row in Python)."""
    item, prior = CollectiveIncomeItem, aliased(CollectiveIncomeItem)
    over = [func.sum(case((item.amount_fen >= t, 1), else_=0)) for t in thresholds]
    for county_id, y, fen, villages, *counts in session.execute(
            select(item.county_id, item.year, func.sum(item.amount_fen), func.count(), *over)
            .where(item.county_id.in_(county_ids), item.source == ENTERED,
                   item.year.in_(sorted({year, baseline_year})))
            .group_by(item.county_id, item.year)):
        figures = out[county_id]
        if y == year:
            figures["collective_income_fen"] = int(fen or 0)
            figures["villages_with_income"] = int(villages)
        for bucket, n in zip(figures["villages_income_at_least"], counts):
            if y == year:
                bucket["this_year"] = int(n or 0)
            if y == baseline_year:
                bucket["baseline_year"] = int(n or 0)
    for county_id, increase, villages in session.execute(
            select(item.county_id, func.sum(item.amount_fen - prior.amount_fen), func.count())
            .join(prior, and_(prior.village_id == item.village_id, prior.year == year - 1,
                              prior.source == ENTERED))
            .where(item.county_id.in_(county_ids), item.source == ENTERED, item.year == year)
            .group_by(item.county_id)):
        out[county_id]["collective_income_increase_fen"] = int(increase or 0)
        out[county_id]["villages_compared"] = int(villages)


def _accounts(session: Session, county_ids, year: int, out: dict) -> None:
    """Wages paid to villagers and labour (人次) from the year's annual accounts."""
    rows = session.execute(
        select(AnnualAccount.county_id, func.sum(AnnualAccount.wages_paid_fen),
               func.sum(AnnualAccount.labour_days), func.count(AnnualAccount.id))
        .where(AnnualAccount.county_id.in_(county_ids), AnnualAccount.year == year)
        .group_by(AnnualAccount.county_id))
    for county_id, wages, labour, n in rows:
        out[county_id].update(wages_paid_fen=int(wages or 0), labour_person_times=int(labour or 0),
                              cooperatives_reporting_accounts=int(n))


def _dividends(session: Session, county_ids, year: int, out: dict) -> None:
    """Dividends paid plans of the year gave the village collectives (their whole line,
    as GET /villages/{id}/collective-income shows beside the income). Read from each
    cooperative's one collective member (`collective_of`, unique) and its lines, never by
    scanning the county's members or every member's line."""
    # The lines are found by member (the collective members, through the cooperatives):
    # joined the other way round, MariaDB starts from the year's paid plans and reads every
    # member's line of each.
    collective = (select(Member.id).join(Cooperative, Member.collective_of == Cooperative.id)
                  .where(Cooperative.county_id.in_(county_ids)))
    rows = session.execute(
        select(DistributionLine.county_id, func.sum(DistributionLine.total_fen))
        .join(DistributionPlan, DistributionPlan.id == DistributionLine.plan_id)
        .where(DistributionLine.member_id.in_(collective), DistributionLine.is_collective,
               DistributionPlan.year == year, DistributionPlan.status == PlanStatus.PAID)
        .group_by(DistributionLine.county_id))
    for county_id, fen in rows:
        out[county_id]["dividends_paid_fen"] = int(fen or 0)


# --- assembling ------------------------------------------------------------------------------

def _average(total: int, count: int) -> int | None:
    """Mean in whole fen, rounded half away from zero, in integers (None for no villages)."""
    if count == 0:
        return None
    quotient, remainder = divmod(abs(total), count)
    if 2 * remainder >= count:
        quotient += 1
    return quotient if total >= 0 else -quotient


def finish(figures: dict) -> dict:
    """Derive the ratios and per-village amounts from the counts (in place; returned)."""
    figures["secretary_chair_ratio"] = (
        ratio_string(figures["secretary_chairs"], figures["chaired_cooperatives"])
        if figures["chaired_cooperatives"] else None)
    figures["cross_appointment_ratio"] = (
        ratio_string(figures["cross_appointed_officers"],
                     figures["board_and_supervisory_officers"])
        if figures["board_and_supervisory_officers"] else None)
    figures["collective_income_per_village_fen"] = _average(
        figures["collective_income_fen"], figures["villages_with_income"])
    figures["collective_income_increase_per_village_fen"] = _average(
        figures["collective_income_increase_fen"], figures["villages_compared"])
    return figures


def figures_of_counties(session: Session, county_ids: Iterable[int], year: int, today: date,
                        baseline_year: int | None = None,
                        thresholds_fen: Sequence[int] = DEFAULT_INCOME_THRESHOLDS_FEN
                        ) -> dict[int, dict]:
    """{county id: its figures for `year`} (see docs/figures.md); `baseline_year`
    (default the year before) is the year the income thresholds are compared with."""
    county_ids = sorted(set(county_ids))
    baseline_year = year - 1 if baseline_year is None else baseline_year
    day = as_of_day(year, today)
    out = {cid: _empty(year, baseline_year, day, thresholds_fen) for cid in county_ids}
    if not county_ids:
        return out
    running = _by_status(session, county_ids, day, out)
    _changes_in_year(session, county_ids, year, out)
    _officers(session, county_ids, running, day, out)
    _managers_and_commissioners(session, county_ids, running, day, out)
    _collective_income(session, county_ids, year, baseline_year, thresholds_fen, out)
    _accounts(session, county_ids, year, out)
    _dividends(session, county_ids, year, out)
    return {cid: finish(figures) for cid, figures in out.items()}


def county_figures(session: Session, county_id: int, year: int, today: date,
                   baseline_year: int | None = None,
                   thresholds_fen: Sequence[int] = DEFAULT_INCOME_THRESHOLDS_FEN) -> dict:
    """One county's figures: what the county dashboard, the console's dashboard and the
    xlsx county report show."""
    return figures_of_counties(session, [county_id], year, today, baseline_year,
                               thresholds_fen)[county_id]


def total(figures: list[dict], year: int, baseline_year: int, as_of: date,
          thresholds_fen: Sequence[int]) -> dict:
    """The sum of several counties' figures, its ratios recomputed from the sums."""
    out = _empty(year, baseline_year, as_of, thresholds_fen)
    for county in figures:
        for key in ADDITIVE:
            out[key] += county[key]
        for status, n in county["cooperatives_by_status"].items():
            by_status = out["cooperatives_by_status"]
            by_status[status] = by_status.get(status, 0) + n
        for kind, n in county["shells_cleared"].items():
            out["shells_cleared"][kind] += n
        for mine, theirs in zip(out["villages_income_at_least"],
                                county["villages_income_at_least"]):
            mine["this_year"] += theirs["this_year"]
            mine["baseline_year"] += theirs["baseline_year"]
    return finish(out)


def figure_rows(figures: dict) -> list[tuple[str, object, str]]:
    """The figures as the county report's sheet lists them: (Chinese label, value, kind)
    with kind `count`, `fen` (money, written in yuan), `ratio` (a decimal string) or
    `text`; the same values the dashboards show."""
    year, base = figures["year"], figures["baseline_year"]
    shells = figures["shells_cleared"]
    rows = [
        ("年度", str(year), "text"), ("统计日", figures["as_of"].isoformat(), "text"),
        ("合作社总数", figures["cooperatives_total"], "count"),
        *((f"合作社数（{STATUS_LABELS[s]}）", n, "count")
          for s, n in figures["cooperatives_by_status"].items()),
        ("本年规范提升", figures["standardized"], "count"),
        ("本年空壳社清理（关停并转）", shells["total"], "count"),
        ("其中关停", shells["closed"], "count"), ("其中合并", shells["merged"], "count"),
        ("其中转型", shells["transformed"], "count"),
        ("村党组织书记任理事长比例", figures["secretary_chair_ratio"], "ratio"),
        ("交叉任职比例", figures["cross_appointment_ratio"], "ratio"),
        ("职业经理人", figures["professional_managers"], "count"),
        ("专员（第一书记等）", figures["commissioners"], "count"),
        ("有专员结对的合作社", figures["cooperatives_with_commissioner"], "count"),
        ("村集体经营性收入合计（元）", figures["collective_income_fen"], "fen"),
        ("村均集体收入（元）", figures["collective_income_per_village_fen"], "fen"),
        ("集体收入增收合计（元）", figures["collective_income_increase_fen"], "fen"),
        ("村均增收（元）", figures["collective_income_increase_per_village_fen"], "fen"),
    ]
    for bucket in figures["villages_income_at_least"]:
        wan = bucket["threshold_fen"] // 1_000_000
        rows.append((f"集体收入≥{wan}万元的村（{year}年）", bucket["this_year"], "count"))
        rows.append((f"集体收入≥{wan}万元的村（{base}年）", bucket["baseline_year"], "count"))
    rows += [("支付农民工资（元）", figures["wages_paid_fen"], "fen"),
             ("带动务工（人次）", figures["labour_person_times"], "count"),
             ("村集体分红（元）", figures["dividends_paid_fen"], "fen")]
    return rows


STATUS_LABELS = {"active": "正常经营", "standardized": "规范提升", "shell": "空壳",
                 "closed": "关停", "merged": "合并", "transformed": "转型"}


def with_county_figures(session: Session, report, today: date):
    """A county's payout report carrying the county's figures for its year (the xlsx
    writes them on a sheet of their own); other scopes as they are."""
    if report.scope != "county":
        return report
    return replace(report, figures=county_figures(session, report.county_id, report.year,
                                                  today))
