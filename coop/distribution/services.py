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

import gc
import hashlib
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from itertools import compress, groupby, repeat
from operator import attrgetter, itemgetter, sub
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, and_, bindparam, case, cast, func, or_, select
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

BASIS_CHUNK = 50   # cooperatives per read in a county run: bounds memory, not speed


def _basis_queries() -> tuple:
    """The reads behind a plan's basis, for a set of cooperatives (expanding
    `coop_ids`), each a range of one index with no join to the others:

    * members: (cooperative_id, id, on_roll, is_collective), in cooperative and id order;
    * register balances: (member_id, total_fen), today's running sum of every line
      (coop/shares/models.py `ShareBalance`);
    * the register lines dated after 31 December: (member_id, sum); capital on 31
      December is the balance minus these, the same figure as
      `coop.shares.register.member_totals_as_of` (a test checks it); few at a year-end run;
    * the year's trades: (member_id, sum);
    * reserve and subsidy shares brought forward from earlier years' approved plans:
      (member_id, reserve, subsidy).

    Separate reads merged in Python, not one query with four outer joins to grouped
    subqueries: on SQLite the join cost about twice the reads (it builds a temporary
    index for each subquery), and a county run can read all its cooperatives at once.
    Built once with bind parameters. Sums are CAST: MySQL sums integers as DECIMAL,
    which the driver would turn into Decimals.
    """
    coop_ids, year, year_end = (bindparam("coop_ids", expanding=True), bindparam("year"),
                                bindparam("year_end"))

    def total(column):
        return cast(func.sum(column), BigInteger)

    on_roll = and_(Member.joined_on <= year_end,
                   or_(Member.left_on.is_(None), Member.left_on > year_end))
    members = (select(Member.cooperative_id, Member.id, case((on_roll, 1), else_=0),
                      case((Member.member_type == "collective", 1), else_=0))
               .where(Member.cooperative_id.in_(coop_ids))
               .order_by(Member.cooperative_id, Member.id))
    balances = (select(ShareBalance.member_id, ShareBalance.total_fen)
                .where(ShareBalance.cooperative_id.in_(coop_ids)))
    later = (select(ShareLine.member_id, total(ShareLine.delta_fen))
             .where(ShareLine.cooperative_id.in_(coop_ids), ShareLine.effective_on > year_end)
             .group_by(ShareLine.cooperative_id, ShareLine.member_id))
    trades = (select(Trade.member_id, total(Trade.amount_fen))
              .where(Trade.cooperative_id.in_(coop_ids), Trade.year == year)
              .group_by(Trade.cooperative_id, Trade.member_id))   # the index's order
    carried = (select(DistributionLine.member_id, total(DistributionLine.reserve_share_fen),
                      total(DistributionLine.subsidy_share_fen))
               .join(DistributionPlan, DistributionPlan.id == DistributionLine.plan_id)
               .where(DistributionPlan.cooperative_id.in_(coop_ids),
                      DistributionPlan.year < year, DistributionPlan.status.in_(DONE_STATES))
               .group_by(DistributionLine.member_id))
    return members, balances, later, trades, carried


_MEMBERS, _BALANCES, _LATER, _TRADES, _CARRIED = _basis_queries()


def gather_bases(session: Session, coop_ids: list[int], year: int
                 ) -> dict[int, tuple[list[compute.MemberBasis], set[int]]]:
    """{cooperative_id: (the members taking part in `year` with their basis, the
    collective's id(s))} for each of `coop_ids` (the rule for joiners and leavers is the
    module docstring's)."""
    params = {"coop_ids": coop_ids, "year": year, "year_end": date(year, 12, 31)}
    connection = session.connection()

    def read(statement):
        # Every column is an integer (flags as 1/0): the driver's own tuples, without a
        # Row object per row (a county run reads some 300,000 rows).
        result = connection.execute(statement, params)
        try:
            return result.cursor.fetchall()
        finally:
            result.close()

    balances, later, trades = dict(read(_BALANCES)), dict(read(_LATER)), dict(read(_TRADES))
    carried = {row[0]: row[1:] for row in read(_CARRIED)}
    bases = {coop_id: ([], set()) for coop_id in coop_ids}
    for coop_id, rows in groupby(read(_MEMBERS), key=itemgetter(0)):
        bases[coop_id] = _basis(list(rows), balances, later, trades, carried)
    return bases


def _basis(rows: list, balances: dict, later: dict, trades: dict, carried: dict
           ) -> tuple[list[compute.MemberBasis], set[int]]:
    """One cooperative's basis from its member rows and the reads keyed by member id
    (ids are global, and each of those rows is written for its member's own cooperative),
    column by column: map runs in C, and a county run does this for 75,500 members."""
    _, ids, on_roll, is_collective = zip(*rows)
    on_roll = tuple(map(bool, on_roll))
    held = map(balances.get, ids, repeat(0))
    if later:
        held = map(sub, held, map(later.get, ids, repeat(0)))
    held = list(held)
    traded = list(map(trades.get, ids, repeat(0)))
    # Everyone on the roll on 31 December, and anyone else holding capital or trading.
    taking_part = list(map(any, zip(on_roll, held, traded)))
    if carried:   # a leaver's balances were settled when they left (Art. 28)
        reserve, subsidy = zip(*[carried.get(member_id, _NOTHING) if roll else _NOTHING
                                 for member_id, roll in zip(ids, on_roll)])
    else:
        reserve = subsidy = repeat(0)
    rows = zip(ids, map(max, held, repeat(0)), map(max, traded, repeat(0)), reserve, subsidy,
               on_roll)
    basis = compute.bases(rows if all(taking_part) else compress(rows, taking_part))
    return basis, set(compress(ids, is_collective))


_NOTHING = (0, 0)


def gather_basis(session: Session, coop, year: int
                 ) -> tuple[list[compute.MemberBasis], set[int]]:
    """The members taking part in `year` with their basis, and the collective's id(s).

    `coop` is anything with `.id` (a Cooperative, or a row of the county run)."""
    return gather_bases(session, [coop.id], year)[coop.id]


def basis_digest(account: AnnualAccount, basis: list[compute.MemberBasis]) -> str:
    """A fingerprint of everything a plan was computed from (accounts, trades, capital,
    balances, roll): approval compares it, so a plan never pays on stale figures.

    The text hashed is "member_id,capital,trade,reserve,subsidy,on_roll" per member in
    id order (on_roll as 1/0) after the account's figures; a stored draft's digest is
    compared with this at approval, so the text never changes."""
    rows = [repr(tuple(getattr(account, n) for n in ACCOUNT_FIELDS))]
    rows += map(_DIGEST_ROW.__mod__, sorted(basis, key=_MEMBER_ID))
    digest = hashlib.sha256("\n".join(rows).encode())
    return digest.hexdigest()


_DIGEST_ROW = ",".join(["%d"] * len(compute.MemberBasis._fields))
_MEMBER_ID = attrgetter("member_id")


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
    values, lines, collective = _draft(actor, coop, year, rules, account,
                                       gather_basis(session, coop, year))
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


def _draft(actor, coop, year: int, rules: compute.Rules, account,
           gathered: tuple[list[compute.MemberBasis], set[int]]
           ) -> tuple[dict, tuple[compute.Line, ...], set[int]]:
    """Compute, nothing written yet: the plan row's values, its lines and the collective
    member(s). `coop` and `account` are the ORM rows or rows of the county run with the
    same columns; `gathered` is the cooperative's basis (`gather_basis`)."""
    basis, collective = gathered
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


# A compute.Line's fields, in order, then what every line of the plan shares.
LINE_COLUMNS = (*compute.Line._fields, "plan_id", "county_id", "cooperative_id",
                "is_collective", "convert_fen")
LITERAL_CHUNK = 1_000
_INSERT_HEAD = (f"INSERT INTO {DistributionLine.__tablename__} ({', '.join(LINE_COLUMNS)}) "
                "VALUES ")
_LINE_FIELDS = len(compute.Line._fields)


def _insert_lines(session: Session, values: dict, plan_id: int,
                  lines: tuple[compute.Line, ...], collective: set[int]) -> None:
    """Write the plan's lines as plain rows, no ORM objects and no row built in Python:
    a county's year-end run writes 75,500 of them. A Line is a tuple whose fields are
    the first columns; the plan's ids (integers, rendered with %d: bare digits, nothing
    else can get through) and the collective flag are written into the statement. On
    SQLite the lines are executemany's parameters as they are (?1 is the member id); on
    MySQL/MariaDB they go as multi-row INSERT literals (pymysql's per-value escaping costs
    twice the insert itself), where a value may name a column set earlier in its row."""
    if not lines:
        return
    shared = "%d,%d,%d" % (plan_id, values["county_id"], values["cooperative_id"])
    collective_ids = ",".join("%d" % member_id for member_id in sorted(collective))
    connection = session.connection()
    if connection.dialect.name in ("mysql", "mariadb"):
        flag = f"member_id IN ({collective_ids})" if collective_ids else "0"
        literal = "(" + ",".join(["%d"] * _LINE_FIELDS) + f",{shared},{flag},0)"
        for start in range(0, len(lines), LITERAL_CHUNK):
            connection.exec_driver_sql(_INSERT_HEAD + ",".join(
                map(literal.__mod__, lines[start:start + LITERAL_CHUNK])))
    elif connection.dialect.name == "sqlite":
        flag = f"?1 IN ({collective_ids})" if collective_ids else "0"
        marks = ",".join(f"?{n}" for n in range(1, _LINE_FIELDS + 1))
        # Plain tuples in a list: sqlite3 binds an exact tuple directly but a tuple
        # subclass item by item (a third slower), and exec_driver_sql would take a
        # tuple of rows for one row's parameters.
        connection.exec_driver_sql(_INSERT_HEAD + f"({marks},{shared},{flag},0)",
                                   list(map(tuple, lines)))
    else:
        raise NotImplementedError(f"plan lines are written for SQLite and MySQL/MariaDB, "
                                  f"not {connection.dialect.name}")


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
    `create_plan` reads cooperative by cooperative is read in bulk up front: the
    cooperatives, their accounts and live plans for the whole county, and the bases
    `BASIS_CHUNK` cooperatives at a time; the plan row goes in as a plain INSERT. At 151
    cooperatives the per-plan statements cost more than the maths. A plan drafted
    concurrently meanwhile still loses to the one-live-plan key (409), and the basis
    digest keeps a plan from being approved on figures changed after the read.
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
    with _collector_paused():
        for start in range(0, len(rows), BASIS_CHUNK):
            chunk = rows[start:start + BASIS_CHUNK]
            bases = gather_bases(session, [row.id for row in chunk if row.id not in live], year)
            for row in chunk:   # the cooperative and its account: .id, .revenue_fen, ...
                rate = patronage_rate if row.distribution_method == compute.STATUTORY else None
                try:
                    if row.id in live:   # the refusals in create_plan's order
                        _rules(row, reserve_rate, rate)
                        raise _live_plan_exists(year)
                    outcome[row.id] = str(_plan_one(session, actor, row, year, rate,
                                                    reserve_rate, bases[row.id]))
                except (RuleViolation, Conflict, ValidationFailed) as exc:
                    session.rollback()
                    outcome[row.id] = exc.code
    return outcome


def _plan_one(session: Session, actor, row, year: int, patronage_rate: Decimal | None,
              reserve_rate: Decimal, gathered) -> int:
    """One cooperative of the county run, as `create_plan` writes it: its plan id."""
    rules = _rules(row, reserve_rate, patronage_rate)
    values, lines, collective = _draft(actor, row, year, rules, row, gathered)
    with _one_live_plan(session, year):
        plan_id = session.execute(PLAN_INSERT, values).inserted_primary_key[0]
    _insert_lines(session, values, plan_id, lines, collective)
    audit.record(session, actor, "distribution_plan.create", "distribution_plan", plan_id,
                 after=_figures(values))
    session.commit()
    return plan_id


@contextmanager
def _collector_paused():
    """The cyclic garbage collector off for a county run, then back as it was.

    The run allocates millions of short-lived objects (rows, bases, lines), all freed by
    reference counting as each chunk and cooperative is done; the collector, started
    every 700 allocations, walked the chunk's live rows again and again (about a fifth
    of the basis reads). The few cycles made meanwhile (a refusal's traceback) are
    collected once it is back on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
