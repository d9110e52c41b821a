"""Use cases of the yearly surplus: annual accounts and computing a draft plan.

Plain functions `fn(session, actor, ...)`; each commits at the end of its use case and
raises `coop.errors` exceptions. The maths itself is in `compute.py`; this module only
gathers its inputs from the database and stores its result.

Who takes part in a year's plan (成员范围), the rule for members who joined or left:
  * every member on the roll on 31 December (joined by then, not left by then);
  * plus anyone holding capital on 31 December (the register is the truth);
  * plus anyone with transactions in the year — a member who left during the year still
    gets the patronage return on the trade they did (Art. 44), but no subsidy share, and
    the reserve/subsidy shares brought forward count only for members still on the roll
    (a leaver's were settled when they left, Art. 28).
"""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, func, inspect, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coop import audit
from coop.county.guards import check_year
from coop.distribution import compute
from coop.distribution.models import (DONE_STATES, AnnualAccount, DistributionLine,
                                      DistributionPlan, Trade)
from coop.dbtypes import utcnow
from coop.errors import Conflict, RuleViolation, ValidationFailed
from coop.registry.models import Cooperative, Member
from coop.shares.register import member_totals_as_of

CHINA = ZoneInfo("Asia/Shanghai")
ACCOUNT_FIELDS = ("revenue_fen", "cost_fen", "prior_loss_fen", "wages_paid_fen", "labour_days",
                  "fiscal_subsidy_fen")
PLAN_FIGURES = ("surplus_fen", "loss_covered_fen", "reserve_fen", "distributable_fen",
                "patronage_pool_fen", "share_pool_fen", "trade_total_fen",
                "share_basis_total_fen")


def china_today(now: datetime | None = None) -> date:
    """Today's date in China (dates of assemblies and payments are local dates)."""
    return (now or utcnow()).astimezone(CHINA).date()


# ---- annual accounts ------------------------------------------------------------------

def get_account(session: Session, cooperative_id: int, year: int, *,
                lock: bool = False) -> AnnualAccount | None:
    stmt = select(AnnualAccount).where(AnnualAccount.cooperative_id == cooperative_id,
                                       AnnualAccount.year == year)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.execute(stmt).scalar_one_or_none()


def year_is_locked(session: Session, cooperative_id: int, year: int) -> bool:
    """True once the year's plan is approved (or paid): its figures are final."""
    return session.execute(select(DistributionPlan.id).where(
        DistributionPlan.cooperative_id == cooperative_id, DistributionPlan.year == year,
        DistributionPlan.status.in_(DONE_STATES)).limit(1)).first() is not None


def lock_open_year(session: Session, cooperative_id: int, year: int) -> AnnualAccount | None:
    """Lock the year's account row (if any) and refuse if the year is closed (409).

    Approval takes the same row lock, so an edit and an approval never interleave.
    """
    check_year(year)
    account = get_account(session, cooperative_id, year, lock=True)
    if year_is_locked(session, cooperative_id, year):
        raise Conflict(f"{year} 年度的分配方案已批准，账目和交易已锁定")
    return account


def put_account(session: Session, actor, coop: Cooperative, year: int,
                values: dict) -> AnnualAccount:
    """Create or replace the cooperative's annual account (年度账目) for `year`.

    Refused with 409 once that year's plan is approved.
    """
    account = lock_open_year(session, coop.id, year)
    before = None if account is None else account_dict(account)
    if account is None:
        account = AnnualAccount(county_id=coop.county_id, cooperative_id=coop.id, year=year)
        session.add(account)
    for name in ACCOUNT_FIELDS:
        setattr(account, name, values[name])
    account.updated_by = getattr(actor, "id", None)
    try:
        session.flush()
    except IntegrityError as exc:  # two first PUTs of the same year racing
        session.rollback()
        raise Conflict("该年度账目正被同时录入，请重试") from exc
    audit.record(session, actor, "annual_account.put", "annual_account", account.id,
                 before=before, after=account_dict(account))
    session.commit()
    return account


def account_dict(account: AnnualAccount) -> dict:
    return {"cooperative_id": account.cooperative_id, "year": account.year,
            **{name: getattr(account, name) for name in ACCOUNT_FIELDS}}


# ---- the basis of a plan --------------------------------------------------------------

def _basis_query():
    """Each member of a cooperative with on-roll flag, year's trades and balances brought
    forward, in one read. Built once with bind parameters (a county run issues it 151
    times; building the statement cost as much as running it)."""
    coop_id, year, year_end = bindparam("coop_id"), bindparam("year"), bindparam("year_end")
    trades = (select(Trade.member_id, func.sum(Trade.amount_fen).label("fen"))
              .where(Trade.cooperative_id == coop_id, Trade.year == year)
              .group_by(Trade.member_id).subquery())
    balances = (select(DistributionLine.member_id,
                       func.sum(DistributionLine.reserve_share_fen).label("reserve"),
                       func.sum(DistributionLine.subsidy_share_fen).label("subsidy"))
                .join(DistributionPlan, DistributionPlan.id == DistributionLine.plan_id)
                .where(DistributionPlan.cooperative_id == coop_id, DistributionPlan.year < year,
                       DistributionPlan.status.in_(DONE_STATES))
                .group_by(DistributionLine.member_id).subquery())
    on_roll = case((and_(Member.joined_on <= year_end,
                         or_(Member.left_on.is_(None), Member.left_on > year_end)), 1), else_=0)
    return (select(Member.id, Member.member_type == "collective", on_roll, trades.c.fen,
                   balances.c.reserve, balances.c.subsidy)
            .outerjoin(trades, trades.c.member_id == Member.id)
            .outerjoin(balances, balances.c.member_id == Member.id)
            .where(Member.cooperative_id == coop_id))


BASIS_QUERY = _basis_query()


def gather_basis(session: Session, coop: Cooperative, year: int
                 ) -> tuple[list[compute.MemberBasis], set[int]]:
    """The members taking part in `year` with their basis, and the collective's id(s)."""
    year_end = date(year, 12, 31)
    # plain rows, no ORM loading: 5,000 members
    members = session.connection().execute(
        BASIS_QUERY, {"coop_id": coop.id, "year": year, "year_end": year_end}).all()
    capital = member_totals_as_of(session, coop.id, year_end)
    basis, collective = [], set()
    for member_id, is_collective, roll, traded, reserve_bal, subsidy_bal in members:
        held, traded = capital.get(member_id, 0), int(traded or 0)
        if not (roll or held or traded):
            continue
        basis.append(compute.MemberBasis(
            member_id=member_id, capital_fen=max(held, 0), trade_fen=max(traded, 0),
            reserve_balance_fen=int(reserve_bal or 0) if roll else 0,
            subsidy_balance_fen=int(subsidy_bal or 0) if roll else 0, on_roll=bool(roll)))
        if is_collective:
            collective.add(member_id)
    return basis, collective


def basis_digest(account: AnnualAccount, basis: list[compute.MemberBasis]) -> str:
    """A fingerprint of everything a plan was computed from (accounts, trades, capital,
    balances, roll): approval compares it, so a plan never pays on stale figures."""
    rows = [repr(tuple(getattr(account, n) for n in ACCOUNT_FIELDS))]
    rows += [f"{m.member_id},{m.capital_fen},{m.trade_fen},{m.reserve_balance_fen},"
             f"{m.subsidy_balance_fen},{m.on_roll:d}"
             for m in sorted(basis, key=lambda b: b.member_id)]
    digest = hashlib.sha256("\n".join(rows).encode())
    return digest.hexdigest()


def current_digest(session: Session, coop: Cooperative, year: int,
                   account: AnnualAccount | None) -> str | None:
    if account is None:
        return None
    return basis_digest(account, gather_basis(session, coop, year)[0])


# ---- computing a plan -----------------------------------------------------------------

def live_plan(session: Session, cooperative_id: int, year: int) -> DistributionPlan | None:
    return session.execute(select(DistributionPlan).where(
        DistributionPlan.cooperative_id == cooperative_id,
        DistributionPlan.live_year == year)).scalar_one_or_none()


def create_plan(session: Session, actor, coop: Cooperative, year: int, reserve_rate: Decimal,
                patronage_rate: Decimal | None = None) -> DistributionPlan:
    """Compute and store a draft plan (分配方案草案) for the cooperative's `year`.

    The method is the charter's (`distribution_method`). 422 with the compute codes
    (PATRONAGE_BELOW_MINIMUM, NO_DISTRIBUTABLE_SURPLUS, NO_TRADE_VOLUME, NO_SHARE_BASIS),
    YEAR_ACCOUNTS_MISSING without an annual account; 409 if the year already has a live
    plan (cancel it first).
    """
    check_year(year)
    rules = compute.Rules(coop.distribution_method, reserve_rate, patronage_rate)
    with _refusals():
        compute.check_rules(rules)
    account = get_account(session, coop.id, year)
    if account is None:
        raise RuleViolation(f"请先录入 {year} 年度账目", code="YEAR_ACCOUNTS_MISSING")
    if live_plan(session, coop.id, year) is not None:
        raise Conflict(f"{year} 年度已有分配方案；如需重新计算，请先撤销原方案")
    basis, collective = gather_basis(session, coop, year)
    with _refusals():
        result = compute.distribute(
            compute.YearAccount(account.revenue_fen, account.cost_fen, account.prior_loss_fen,
                                account.fiscal_subsidy_fen), rules, basis)
    plan = DistributionPlan(
        county_id=coop.county_id, cooperative_id=coop.id, year=year, live_year=year,
        method=rules.method, reserve_rate=reserve_rate,
        patronage_rate=(patronage_rate if patronage_rate is not None else
                        compute.MIN_PATRONAGE_RATE) if rules.method == compute.STATUTORY else None,
        status="draft", revenue_fen=account.revenue_fen, cost_fen=account.cost_fen,
        prior_loss_fen=account.prior_loss_fen, fiscal_subsidy_fen=result.subsidy_fen,
        converted_fen=0, line_count=len(result.lines),
        basis_digest=basis_digest(account, basis), created_by=getattr(actor, "id", None),
        **{name: getattr(result, name) for name in PLAN_FIGURES})
    session.add(plan)
    try:
        session.flush()
    except IntegrityError as exc:  # another draft for the same year won the race
        session.rollback()
        raise Conflict(f"{year} 年度已有分配方案") from exc
    _insert_lines(session, plan, collective, result.lines)
    audit.record(session, actor, "distribution_plan.create", "distribution_plan", plan.id,
                 after=plan_figures(plan))
    session.commit()
    return plan


LINE_COLUMNS = ("plan_id", "county_id", "cooperative_id", "member_id", "is_collective",
                "capital_fen", "trade_fen", "share_basis_fen", "subsidy_share_fen",
                "reserve_share_fen", "patronage_fen", "share_fen", "total_fen", "convert_fen")
LITERAL_CHUNK = 1_000


def _insert_lines(session: Session, plan: DistributionPlan, collective: set[int],
                  lines: tuple[compute.Line, ...]) -> None:
    """Write the plan's lines without per-row parameter processing: a county's year-end
    run writes 75,500 of them. Every value is an integer, so on MySQL/MariaDB they go as
    multi-row INSERT literals of `int()`s (pymysql's per-value escaping costs twice the
    insert itself); elsewhere as one DB-API executemany."""
    if not lines:
        return
    connection = session.connection()
    rows = [(plan.id, plan.county_id, plan.cooperative_id, line.member_id,
             int(line.member_id in collective), line.capital_fen, line.trade_fen,
             line.share_basis_fen, line.subsidy_share_fen, line.reserve_share_fen,
             line.patronage_fen, line.share_fen, line.total_fen, 0) for line in lines]
    head = f"INSERT INTO {DistributionLine.__tablename__} ({', '.join(LINE_COLUMNS)}) VALUES "
    if connection.dialect.name in ("mysql", "mariadb"):
        for start in range(0, len(rows), LITERAL_CHUNK):
            connection.exec_driver_sql(head + ",".join(
                "(" + ",".join(str(int(value)) for value in row) + ")"
                for row in rows[start:start + LITERAL_CHUNK]))
    else:
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        connection.exec_driver_sql(head + f"({', '.join([mark] * len(LINE_COLUMNS))})", rows)


@contextmanager
def _refusals():
    """The pure maths' refusals as the contract's 422 answers."""
    try:
        yield
    except compute.DistributionError as exc:
        if exc.code == "VALIDATION_FAILED":
            raise ValidationFailed(exc.message) from exc
        raise RuleViolation(exc.message, code=exc.code) from exc


def plan_figures(plan: DistributionPlan) -> dict:
    """The plan's headline figures, for the audit trail."""
    return {"cooperative_id": plan.cooperative_id, "year": plan.year, "method": plan.method,
            "status": plan.status, "reserve_rate": plan.reserve_rate,
            "patronage_rate": plan.patronage_rate, "line_count": plan.line_count,
            **{name: getattr(plan, name) for name in PLAN_FIGURES}}


def plan_county(session: Session, actor, county_id: int, year: int, reserve_rate: Decimal,
                patronage_rate: Decimal | None = None) -> dict[int, str]:
    """Draft plans for every cooperative of a county with accounts for `year` and no live
    plan yet (the county's year-end run). {cooperative_id: plan id or the 422/409 code}."""
    coop_ids = session.execute(
        select(Cooperative.id).join(AnnualAccount, AnnualAccount.cooperative_id == Cooperative.id)
        .where(Cooperative.county_id == county_id, AnnualAccount.year == year)
        .order_by(Cooperative.id)).scalars().all()
    outcome: dict[int, str] = {}
    for coop_id in coop_ids:
        coop = session.get(Cooperative, coop_id)
        rate = patronage_rate if coop.distribution_method == compute.STATUTORY else None
        try:
            plan = create_plan(session, actor, coop, year, reserve_rate, rate)
            outcome[coop_id] = str(inspect(plan).identity[0])   # no reload after commit
        except (RuleViolation, Conflict, ValidationFailed) as exc:
            session.rollback()
            outcome[coop_id] = exc.code
    return outcome
