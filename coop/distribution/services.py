"""Use cases of the yearly surplus: annual accounts and computing a draft plan.

Plain functions `fn(session, actor, ...)` that flush (the unit of work commits) and
raise `coop.errors` exceptions. The maths itself is in `compute.py`; this module only
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
from dataclasses import fields
from datetime import date
from decimal import Decimal
from operator import attrgetter

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

import coop.audit as audit
from coop.distribution import compute
from coop.distribution.models import (DONE_STATES, AnnualAccount, DistributionLine,
                                      DistributionPlan, PlanStatus, Trade)
from coop.errors import Conflict, RuleViolation, ValidationFailed
from coop.registry.models import Cooperative, Member
from coop.shares.register import member_totals_as_of
from coop.transaction import flush_or_conflict
from coop.validators import check_year

ACCOUNT_FIELDS = ("revenue_fen", "cost_fen", "prior_loss_fen", "wages_paid_fen", "labour_days",
                  "fiscal_subsidy_fen")
PLAN_FIGURES = ("surplus_fen", "loss_covered_fen", "reserve_fen", "distributable_fen",
                "patronage_pool_fen", "share_pool_fen", "trade_total_fen",
                "share_basis_total_fen")




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
    flush_or_conflict(session, Conflict("该年度账目正被同时录入，请重试"))
    audit.record(session, actor, "annual_account.put", "annual_account", account.id,
                 before=before, after=account_dict(account))
    return account


def account_dict(account: AnnualAccount) -> dict:
    return {"cooperative_id": account.cooperative_id, "year": account.year,
            **{name: getattr(account, name) for name in ACCOUNT_FIELDS}}


# ---- the basis of a plan --------------------------------------------------------------

def gather_basis(session: Session, coop, year: int
                 ) -> tuple[list[compute.MemberBasis], set[int]]:
    """The members taking part in `year` with their basis, and the collective's id(s).

    Capital is what the register held on 31 December (the register's own as-of reading);
    trades are the year's; reserve and subsidy shares are brought forward from earlier
    years' approved plans, for members still on the roll (the rule for joiners and
    leavers is the module docstring's). Sums are cast to int: MySQL sums integers as
    DECIMAL.
    """
    year_end = date(year, 12, 31)
    capital = member_totals_as_of(session, coop.id, year_end)
    trades = {member_id: int(fen) for member_id, fen in session.execute(
        select(Trade.member_id, func.sum(Trade.amount_fen))
        .where(Trade.cooperative_id == coop.id, Trade.year == year)
        .group_by(Trade.member_id))}
    carried = {member_id: (int(reserve), int(subsidy)) for member_id, reserve, subsidy
               in session.execute(
                   select(DistributionLine.member_id,
                          func.sum(DistributionLine.reserve_share_fen),
                          func.sum(DistributionLine.subsidy_share_fen))
                   .join(DistributionPlan, DistributionPlan.id == DistributionLine.plan_id)
                   .where(DistributionPlan.cooperative_id == coop.id,
                          DistributionPlan.year < year,
                          DistributionPlan.status.in_(DONE_STATES))
                   .group_by(DistributionLine.member_id))}
    members = session.execute(
        select(Member.id, Member.joined_on, Member.left_on, Member.member_type)
        .where(Member.cooperative_id == coop.id).order_by(Member.id)).all()
    basis, collective = [], set()
    for member_id, joined_on, left_on, member_type in members:
        if member_type == "collective":
            collective.add(member_id)
        on_roll = joined_on <= year_end and (left_on is None or left_on > year_end)
        held, traded = capital.get(member_id, 0), trades.get(member_id, 0)
        if not (on_roll or held or traded):
            continue
        # A leaver's reserve and subsidy shares were settled when they left (Art. 28).
        reserve, subsidy = carried.get(member_id, (0, 0)) if on_roll else (0, 0)
        basis.append(compute.MemberBasis(member_id, max(held, 0), max(traded, 0), reserve,
                                         subsidy, on_roll))
    return basis, collective


def basis_digest(account: AnnualAccount, basis: list[compute.MemberBasis]) -> str:
    """A fingerprint of everything a plan was computed from (accounts, trades, capital,
    balances, roll): approval compares it, so a plan never pays on stale figures.

    The text hashed is "member_id,capital,trade,reserve,subsidy,on_roll" per member in
    id order (on_roll as 1/0) after the account's figures; a stored draft's digest is
    compared with this at approval, so the text never changes."""
    rows = [repr(tuple(getattr(account, n) for n in ACCOUNT_FIELDS))]
    for m in sorted(basis, key=attrgetter("member_id")):
        rows.append(f"{m.member_id},{m.capital_fen},{m.trade_fen},{m.reserve_balance_fen},"
                    f"{m.subsidy_balance_fen},{int(m.on_roll)}")
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


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
    session.add(plan)
    # The one-live-plan-a-year key refusing the row: another draft won the race.
    flush_or_conflict(session, _live_plan_exists(year))
    _insert_lines(session, values, plan.id, lines, collective)
    audit.record(session, actor, "distribution_plan.create", "distribution_plan", plan.id,
                 after=_figures(values))
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
    member(s); `gathered` is the cooperative's basis (`gather_basis`)."""
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
        status=PlanStatus.DRAFT, revenue_fen=account.revenue_fen, cost_fen=account.cost_fen,
        prior_loss_fen=account.prior_loss_fen, fiscal_subsidy_fen=result.subsidy_fen,
        converted_fen=0, line_count=len(result.lines),
        basis_digest=basis_digest(account, basis), created_by=getattr(actor, "id", None),
        **{name: getattr(result, name) for name in PLAN_FIGURES})
    return values, result.lines, collective


def _live_plan_exists(year: int) -> Conflict:
    return Conflict(f"{year} 年度已有分配方案；如需重新计算，请先撤销原方案")


LINE_FIELDS = tuple(field.name for field in fields(compute.Line))


def _insert_lines(session: Session, values: dict, plan_id: int,
                  lines: tuple[compute.Line, ...], collective: set[int]) -> None:
    """Write the plan's lines in one bulk INSERT (a plan may have thousands). Each line's
    fields are read by name, not with `dataclasses.asdict`, which deep-copies every value
    (the plan's largest cost: docs/performance.md)."""
    if lines:
        session.execute(insert(DistributionLine), [dict(
            {name: getattr(line, name) for name in LINE_FIELDS},
            plan_id=plan_id, county_id=values["county_id"],
            cooperative_id=values["cooperative_id"],
            is_collective=line.member_id in collective, convert_fen=0) for line in lines])


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
