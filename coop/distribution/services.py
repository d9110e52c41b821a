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

from sqlalchemy import (BigInteger, Boolean, and_, bindparam, case, cast, func, or_, select,
                        type_coerce)
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
from coop.shares.models import ShareBalance, ShareLine

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
    """The basis of each member of a cooperative taking part in a year, in one read:
    rows (member_id, capital_fen, trade_fen, reserve_balance_fen, subsidy_balance_fen,
    on_roll, is_collective), the first six being `compute.MemberBasis` as it stands.

    Capital on 31 December is the member's register balance (the running sum of every
    line, coop/shares/models.py `ShareBalance`) minus the lines dated after that day:
    the same figure as `coop.shares.register.member_totals_as_of`, folded into this read
    so a plan costs one query for its whole basis instead of three; the later lines are
    one range of the (cooperative, effective_on, ...) index, few at a year-end run.
    The rule for joiners and leavers (module docstring) is applied here too, so the
    database does the per-member arithmetic of 5,000 members, not Python.

    Built once with bind parameters (a county run issues it 151 times; building the
    statement cost as much as running it). Sums are CAST: MySQL sums integers as
    DECIMAL, which the driver would turn into Decimals.
    """
    coop_id, year, year_end = bindparam("coop_id"), bindparam("year"), bindparam("year_end")

    def total(column):
        return cast(func.sum(column), BigInteger)

    trades = (select(Trade.member_id, total(Trade.amount_fen).label("fen"))
              .where(Trade.cooperative_id == coop_id, Trade.year == year)
              .group_by(Trade.member_id).subquery())
    balances = (select(DistributionLine.member_id,
                       total(DistributionLine.reserve_share_fen).label("reserve"),
                       total(DistributionLine.subsidy_share_fen).label("subsidy"))
                .join(DistributionPlan, DistributionPlan.id == DistributionLine.plan_id)
                .where(DistributionPlan.cooperative_id == coop_id, DistributionPlan.year < year,
                       DistributionPlan.status.in_(DONE_STATES))
                .group_by(DistributionLine.member_id).subquery())
    later = (select(ShareLine.member_id, total(ShareLine.delta_fen).label("fen"))
             .where(ShareLine.cooperative_id == coop_id, ShareLine.effective_on > year_end)
             .group_by(ShareLine.member_id).subquery())
    on_roll = and_(Member.joined_on <= year_end,
                   or_(Member.left_on.is_(None), Member.left_on > year_end))
    held = func.coalesce(ShareBalance.total_fen, 0) - func.coalesce(later.c.fen, 0)
    traded = func.coalesce(trades.c.fen, 0)

    def at_least_zero(value):
        return case((value > 0, value), else_=0)

    def if_on_roll(value):   # a leaver's balances were settled when they left (Art. 28)
        return case((on_roll, func.coalesce(value, 0)), else_=0)

    return (select(Member.id, at_least_zero(held), at_least_zero(traded),
                   if_on_roll(balances.c.reserve), if_on_roll(balances.c.subsidy),
                   type_coerce(case((on_roll, 1), else_=0), Boolean),
                   Member.member_type == "collective")
            .outerjoin(trades, trades.c.member_id == Member.id)
            .outerjoin(balances, balances.c.member_id == Member.id)
            .outerjoin(ShareBalance, and_(ShareBalance.cooperative_id == coop_id,
                                          ShareBalance.member_id == Member.id))
            .outerjoin(later, later.c.member_id == Member.id)
            .where(Member.cooperative_id == coop_id, or_(on_roll, held != 0, traded != 0))
            .order_by(Member.id))


BASIS_QUERY = _basis_query()


def gather_basis(session: Session, coop, year: int
                 ) -> tuple[list[compute.MemberBasis], set[int]]:
    """The members taking part in `year` with their basis, and the collective's id(s).

    `coop` is anything with `.id` (a Cooperative, or a row of the county run)."""
    # plain rows, no ORM loading, one fetchall (iterating would fetch row by row)
    rows = session.connection().execute(
        BASIS_QUERY, {"coop_id": coop.id, "year": year, "year_end": date(year, 12, 31)}
    ).all()
    member = compute.MemberBasis
    return [member(*row[:6]) for row in rows], {row[0] for row in rows if row[6]}


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
    rules = _rules(coop, reserve_rate, patronage_rate)
    account = get_account(session, coop.id, year)
    if account is None:
        raise RuleViolation(f"请先录入 {year} 年度账目", code="YEAR_ACCOUNTS_MISSING")
    if live_plan(session, coop.id, year) is not None:
        raise _live_plan_exists(year)
    values, lines, collective = _draft(session, actor, coop, year, rules, account)
    plan = DistributionPlan(**values)
    with _one_live_plan(session, year):
        session.add(plan)
        session.flush()
    _insert_lines(session, values, plan.id, lines, collective)
    audit.record(session, actor, "distribution_plan.create", "distribution_plan", plan.id,
                 after=_figures(values))
    session.commit()
    return plan


def _rules(coop, reserve_rate: Decimal, patronage_rate: Decimal | None) -> compute.Rules:
    rules = compute.Rules(coop.distribution_method, reserve_rate, patronage_rate)
    with _refusals():
        compute.check_rules(rules)
    return rules


def _draft(session: Session, actor, coop, year: int, rules: compute.Rules, account
           ) -> tuple[dict, tuple[compute.Line, ...], set[int]]:
    """Gather the basis and compute, nothing written yet: the plan row's values, its
    lines and the collective member(s). `coop` and `account` are the ORM rows or rows
    of the county run with the same columns."""
    basis, collective = gather_basis(session, coop, year)
    with _refusals():
        result = compute.distribute(
            compute.YearAccount(account.revenue_fen, account.cost_fen, account.prior_loss_fen,
                                account.fiscal_subsidy_fen), rules, basis)
    statutory = rules.method == compute.STATUTORY
    values = dict(
        county_id=coop.county_id, cooperative_id=coop.id, year=year, live_year=year,
        method=rules.method, reserve_rate=rules.reserve_rate,
        patronage_rate=(rules.patronage_rate if rules.patronage_rate is not None else
                        compute.MIN_PATRONAGE_RATE) if statutory else None,
        status="draft", revenue_fen=account.revenue_fen, cost_fen=account.cost_fen,
        prior_loss_fen=account.prior_loss_fen, fiscal_subsidy_fen=result.subsidy_fen,
        converted_fen=0, line_count=len(result.lines),
        basis_digest=basis_digest(account, basis), created_by=getattr(actor, "id", None),
        **{name: getattr(result, name) for name in PLAN_FIGURES})
    return values, result.lines, collective


def _live_plan_exists(year: int) -> Conflict:
    return Conflict(f"{year} 年度已有分配方案；如需重新计算，请先撤销原方案")


@contextmanager
def _one_live_plan(session: Session, year: int):
    """Writing a plan row: the one-live-plan-a-year key refusing it means another draft
    for the same year won the race (409)."""
    try:
        yield
    except IntegrityError as exc:
        session.rollback()
        raise _live_plan_exists(year) from exc


LINE_COLUMNS = ("plan_id", "county_id", "cooperative_id", "member_id", "is_collective",
                "capital_fen", "trade_fen", "share_basis_fen", "subsidy_share_fen",
                "reserve_share_fen", "patronage_fen", "share_fen", "total_fen", "convert_fen")
LITERAL_CHUNK = 1_000
_INSERT_HEAD = (f"INSERT INTO {DistributionLine.__tablename__} ({', '.join(LINE_COLUMNS)}) "
                "VALUES ")
# %d renders any number as bare digits (and refuses anything else): a literal that
# cannot carry SQL.
_LITERAL_ROW = "(%d," + ",".join(["%d"] * (len(LINE_COLUMNS) - 1)) + ")"


def _insert_lines(session: Session, values: dict, plan_id: int,
                  lines: tuple[compute.Line, ...], collective: set[int]) -> None:
    """Write the plan's lines as plain rows, no ORM objects and no per-row parameter
    processing: a county's year-end run writes 75,500 of them. Every value is an integer,
    so on MySQL/MariaDB they go as multi-row INSERT literals (pymysql's per-value
    escaping costs twice the insert itself); elsewhere as one DB-API executemany."""
    if not lines:
        return
    county_id, coop_id = values["county_id"], values["cooperative_id"]
    rows = [(plan_id, county_id, coop_id, line.member_id, int(line.member_id in collective),
             line.capital_fen, line.trade_fen, line.share_basis_fen, line.subsidy_share_fen,
             line.reserve_share_fen, line.patronage_fen, line.share_fen, line.total_fen, 0)
            for line in lines]
    connection = session.connection()
    if connection.dialect.name in ("mysql", "mariadb"):
        literal = _LITERAL_ROW
        for start in range(0, len(rows), LITERAL_CHUNK):
            connection.exec_driver_sql(_INSERT_HEAD + ",".join(
                [literal % row for row in rows[start:start + LITERAL_CHUNK]]))
    else:
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        connection.exec_driver_sql(
            _INSERT_HEAD + f"({', '.join([mark] * len(LINE_COLUMNS))})", rows)


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
    return _figures({name: getattr(plan, name) for name in _FIGURE_KEYS})


_FIGURE_KEYS = ("cooperative_id", "year", "method", "status", "reserve_rate", "patronage_rate",
                "line_count", *PLAN_FIGURES)


def _figures(values: dict) -> dict:
    return {name: values[name] for name in _FIGURE_KEYS}


PLAN_INSERT = DistributionPlan.__table__.insert()   # one compiled statement for the run


def plan_county(session: Session, actor, county_id: int, year: int, reserve_rate: Decimal,
                patronage_rate: Decimal | None = None) -> dict[int, str]:
    """Draft plans for every cooperative of a county with accounts for `year` and no live
    plan yet (the county's year-end run). {cooperative_id: plan id or the 422/409 code}.

    Each cooperative is its own transaction, as `create_plan` would do it, but what
    `create_plan` reads row by row (the cooperative, its account, its live plan) is read
    for the whole county up front, one query each, and the plan row goes in as a plain
    INSERT: at 151 cooperatives the per-plan statements cost more than the maths. A plan
    drafted concurrently meanwhile still loses to the one-live-plan key (409), and the
    basis digest keeps a plan from being approved on figures changed after this read.
    """
    rows = session.execute(
        select(Cooperative.id, Cooperative.county_id, Cooperative.distribution_method,
               *(AnnualAccount.__table__.c[name] for name in ACCOUNT_FIELDS))
        .join(AnnualAccount, AnnualAccount.cooperative_id == Cooperative.id)
        .where(Cooperative.county_id == county_id, AnnualAccount.year == year)
        .order_by(Cooperative.id)).all()
    live = set(session.execute(select(DistributionPlan.cooperative_id).where(
        DistributionPlan.county_id == county_id, DistributionPlan.live_year == year)).scalars())
    outcome: dict[int, str] = {}
    for row in rows:   # each row is the cooperative and its account: .id, .revenue_fen, ...
        rate = patronage_rate if row.distribution_method == compute.STATUTORY else None
        try:   # the refusals in create_plan's order: rules, then a live plan
            rules = _rules(row, reserve_rate, rate)
            if row.id in live:
                raise _live_plan_exists(year)
            values, lines, collective = _draft(session, actor, row, year, rules, row)
            with _one_live_plan(session, year):
                plan_id = session.execute(PLAN_INSERT, values).inserted_primary_key[0]
            _insert_lines(session, values, plan_id, lines, collective)
            audit.record(session, actor, "distribution_plan.create", "distribution_plan",
                         plan_id, after=_figures(values))
            session.commit()
            outcome[row.id] = str(plan_id)
        except (RuleViolation, Conflict, ValidationFailed) as exc:
            session.rollback()
            outcome[row.id] = exc.code
    return outcome
