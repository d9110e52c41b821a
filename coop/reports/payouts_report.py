"""The payout report (发放报表): every payout line of a county, town or cooperative in a year.

Two reads, both plain SQL over `payout_lines`:

* `payout_totals` — one GROUP BY giving the subtotals per cooperative and town, per
  source and status, and the grand total (integer fen, summed by the database);
* `report_rows` — the lines in (town, cooperative, id) order, streamed with `yield_per`,
  with a subtotal row after each cooperative and each town and the grand total at the end.
  The subtotals are summed from the very rows written, so a file always adds up to itself.

The exporters (coop/reports/exporters.py, pdf_export.py) turn the rows into csv, xlsx, pdf.
A line's town is its own `town_id`, or its cooperative's town when the line has none.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Iterator

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from coop.pagination import paginate
from coop.payouts.models import LINE_STATES, SOURCES, PayoutLine
from coop.payouts.services import totals as money_of
from coop.places.cities import counties_of
from coop.places.models import County, Town
from coop.registry.models import Cooperative

SCOPES = ("cooperative", "town", "county", "city")
SOURCE_LABELS = {"distribution": "盈余分配", "reward": "考核奖励", "subsidy": "财政补助"}
# A reversal (冲正) is its own negative line with status `reversed`; the paid line it
# reverses keeps `paid`.
STATUS_LABELS = {"held": "暂缓（无账号）", "pending": "待发放", "paid": "已发放",
                 "failed": "发放失败", "reversed": "冲正"}
# The figures that mean one thing in batches and every report format (CONTRACT §10).
MONEY_LABELS = {"issued_fen": "应发（补发行只计一次）", "paid_fen": "实发（已支付减冲正）",
                "failed_fen": "失败未补发", "pending_fen": "待发放",
                "held_fen": "暂缓（无银行账号）", "reversed_fen": "冲正"}
PAYEE_LABELS = {"member": "成员", "cooperative": "合作社", "secretary": "村党组织书记",
                "manager": "经营管理人员"}
SCOPE_LABELS = {"city": "市", "county": "县", "town": "乡镇", "cooperative": "合作社"}
STREAM_BATCH = 2000

# A line's town: its own, else its cooperative's (a county-level line may have neither).
_town_key = func.coalesce(PayoutLine.town_id, Cooperative.town_id)


@dataclass(frozen=True)
class ReportScope:
    """What a report covers: `scope` ∈ SCOPES, the object's id, the county and year. A
    city's report covers the lines of all its counties (`county_ids`); its `county_*`
    fields name the city, and `county_id` is None."""

    scope: str
    scope_id: int
    name: str
    county_id: int | None
    county_name: str
    county_code: str
    year: int
    county_ids: tuple[int, ...] = ()
    # A county's xlsx report adds the county's published figures (coop/reports/figures.py).
    figures: dict | None = field(default=None, compare=False)

    @property
    def title(self) -> str:
        if self.scope in ("county", "city"):
            return f"{self.county_name} {self.year}年 发放报表"
        return f"{self.county_name} {self.name} {self.year}年 发放报表"

    @property
    def file_stem(self) -> str:
        """ASCII name for cron jobs and the Content-Disposition fallback."""
        return f"payouts-{self.county_code}-{self.scope}-{self.scope_id}-{self.year}"

    @property
    def display_stem(self) -> str:
        return f"{self.name}_{self.year}年发放报表"


def scope_of(session: Session, scope: str, obj, year: int) -> ReportScope:
    """Describe the report over `obj` (a City, County, Town or Cooperative already
    scope-checked)."""
    if scope == "city":
        return ReportScope(scope=scope, scope_id=obj.id, name=obj.name, county_id=None,
                           county_name=obj.name, county_code=obj.code, year=year,
                           county_ids=tuple(c.id for c in counties_of(session, obj)))
    county = obj if scope == "county" else session.get(County, obj.county_id)
    return ReportScope(scope=scope, scope_id=obj.id, name=obj.name, county_id=county.id,
                       county_name=county.name, county_code=county.code, year=year)


def _where(report: ReportScope) -> list:
    if report.scope == "city":
        return [PayoutLine.county_id.in_(report.county_ids), PayoutLine.year == report.year]
    clauses = [PayoutLine.county_id == report.county_id, PayoutLine.year == report.year]
    if report.scope == "town":
        clauses.append(_town_key == report.scope_id)
    elif report.scope == "cooperative":
        clauses.append(PayoutLine.cooperative_id == report.scope_id)
    return clauses


def _joined(stmt):
    return (stmt.outerjoin(Cooperative, Cooperative.id == PayoutLine.cooperative_id)
            .outerjoin(Town, Town.id == _town_key))


def lines_query(report: ReportScope):
    """SELECT of the report's lines as plain tuples, in (town, cooperative, id) order."""
    stmt = select(
        PayoutLine.id, PayoutLine.batch_id, _town_key.label("town_id"),
        Town.name.label("town_name"), PayoutLine.cooperative_id,
        Cooperative.name.label("cooperative_name"), PayoutLine.source, PayoutLine.payee_type,
        PayoutLine.payee_name, PayoutLine.bank_name, PayoutLine.bank_account_masked,
        PayoutLine.amount_fen, PayoutLine.status, PayoutLine.bank_ref, PayoutLine.paid_on,
        PayoutLine.reverses_id)
    return (_joined(stmt).where(*_where(report))
            .order_by(_town_key, PayoutLine.cooperative_id, PayoutLine.id))


def count_lines(session: Session, report: ReportScope) -> int:
    """How many lines the report lists (the CLI's progress bar total)."""
    stmt = _joined(select(func.count(PayoutLine.id))).where(*_where(report))
    return int(session.execute(stmt).scalar_one())


@dataclass
class Subtotal:
    """A subtotal row: `level` is 'cooperative', 'town' or 'total'; the total also
    carries the breakdown by source and by status.

    `total_fen` is the sum of the lines listed, reversals (冲正, negative lines) included;
    `issued_fen` leaves the reversals out and so equals the batches' `total_fen`.
    """

    level: str
    town_id: int | None = None
    town_name: str | None = None
    cooperative_id: int | None = None
    cooperative_name: str | None = None
    line_count: int = 0
    total_fen: int = 0
    reversed_fen: int = 0
    by_source: dict = field(default_factory=dict)
    by_status: dict = field(default_factory=dict)
    # The total's issued/paid/failed/pending/held/reversed (payouts.services.totals).
    money: dict | None = None

    @classmethod
    def grand(cls) -> "Subtotal":
        return cls("total", by_source={s: _zero() for s in SOURCES},
                   by_status={s: _zero() for s in LINE_STATES})

    @property
    def issued_fen(self) -> int:
        return self.total_fen - self.reversed_fen

    def add(self, amount_fen: int, count: int = 1, reversal_fen: int = 0) -> None:
        self.line_count += count
        self.total_fen += int(amount_fen)
        self.reversed_fen += int(reversal_fen)

    def add_to_breakdown(self, source: str, status: str, amount_fen: int,
                         count: int = 1) -> None:
        for bucket in (self.by_source.setdefault(source, _zero()),
                       self.by_status.setdefault(status, _zero())):
            bucket["line_count"] += count
            bucket["total_fen"] += int(amount_fen)

    def as_dict(self) -> dict:
        out = {"line_count": self.line_count, "total_fen": self.total_fen}
        if self.level == "cooperative":
            out = {"cooperative_id": self.cooperative_id,
                   "cooperative_name": self.cooperative_name, "town_id": self.town_id, **out}
        elif self.level == "town":
            out = {"town_id": self.town_id, "town_name": self.town_name, **out}
        else:
            out.update(issued_fen=self.issued_fen, reversed_fen=self.reversed_fen,
                       by_source=self.by_source, by_status=self.by_status)
            if self.money is not None:
                out.update(self.money)
        return out


def _zero() -> dict:
    return {"line_count": 0, "total_fen": 0}


def report_rows(session: Session, report: ReportScope,
                batch: int = STREAM_BATCH) -> Iterator:
    """Yield each line (a Row), a Subtotal after every cooperative and town, and the total.

    The lines are fetched `batch` at a time, so a county of 75,000 lines never sits in
    memory whole.
    """
    result = session.execute(lines_query(report).execution_options(yield_per=batch))
    coop = town = None
    grand = Subtotal.grand()
    for row in result:
        if town is not None and row.town_id != town.town_id:
            yield coop
            yield town
            coop = town = None
        elif coop is not None and row.cooperative_id != coop.cooperative_id:
            yield coop
            coop = None
        if town is None:
            town = Subtotal("town", town_id=row.town_id, town_name=row.town_name)
        if coop is None:
            coop = Subtotal("cooperative", town_id=row.town_id, town_name=row.town_name,
                            cooperative_id=row.cooperative_id,
                            cooperative_name=row.cooperative_name)
        for acc in (coop, town):
            acc.add(row.amount_fen)
        grand.add(row.amount_fen, reversal_fen=row.amount_fen if row.reverses_id else 0)
        grand.add_to_breakdown(row.source, row.status, row.amount_fen)
        yield row
    if town is not None:
        yield coop
        yield town
    grand.money = money_totals(session, report)
    yield grand


def money_totals(session: Session, report: ReportScope) -> dict[str, int]:
    """The report's issued, paid (实发), failed, pending, held and reversed fen: the same
    figures, by the same query, as a batch shows (a re-issued line counted once)."""
    ids = _joined(select(PayoutLine.id)).where(*_where(report))
    return money_of(session, PayoutLine.id.in_(ids))


@dataclass
class ReportTotals:
    """Subtotals and totals of a report, summed in SQL."""

    total: Subtotal = field(default_factory=Subtotal.grand)
    cooperatives: list[Subtotal] = field(default_factory=list)
    towns: list[Subtotal] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"totals": self.total.as_dict(),
                "cooperatives": [c.as_dict() for c in self.cooperatives],
                "towns": [t.as_dict() for t in self.towns]}


def payout_totals(session: Session, report: ReportScope) -> ReportTotals:
    """One grouped query: count and SUM(amount_fen) (and of the reversals) per town,
    cooperative, source and status."""
    stmt = _joined(select(
        _town_key.label("town_id"), Town.name.label("town_name"), PayoutLine.cooperative_id,
        Cooperative.name.label("cooperative_name"), PayoutLine.source, PayoutLine.status,
        func.count(PayoutLine.id).label("n"), func.sum(PayoutLine.amount_fen).label("fen"),
        func.sum(case((PayoutLine.reverses_id.is_not(None), PayoutLine.amount_fen),
                      else_=0)).label("rev"),
    )).where(*_where(report)).group_by(
        _town_key, Town.name, PayoutLine.cooperative_id, Cooperative.name,
        PayoutLine.source, PayoutLine.status,
    ).order_by(_town_key, PayoutLine.cooperative_id)
    totals = ReportTotals()
    coops: dict = {}
    towns: dict = {}
    for row in session.execute(stmt):
        n, fen = int(row.n), int(row.fen or 0)
        coop = coops.setdefault((row.town_id, row.cooperative_id), Subtotal(
            "cooperative", town_id=row.town_id, town_name=row.town_name,
            cooperative_id=row.cooperative_id, cooperative_name=row.cooperative_name))
        town = towns.setdefault(row.town_id, Subtotal("town", town_id=row.town_id,
                                                      town_name=row.town_name))
        for acc in (coop, town):
            acc.add(fen, n)
        totals.total.add(fen, n, int(row.rev or 0))
        totals.total.add_to_breakdown(row.source, row.status, fen, n)
    totals.cooperatives = list(coops.values())
    totals.towns = list(towns.values())
    totals.total.money = money_totals(session, report)
    return totals


def lines_page(session: Session, report: ReportScope, page: int, per_page: int) -> dict:
    """One page of the lines for the JSON report (the files hold every line)."""
    result = paginate(session, lines_query(report), page, per_page, scalars=False)
    result["items"] = [line_dict(row) for row in result["items"]]
    return result


def line_dict(row) -> dict:
    paid_on: date | None = row.paid_on
    return {"id": row.id, "batch_id": row.batch_id, "town_id": row.town_id,
            "town_name": row.town_name, "cooperative_id": row.cooperative_id,
            "cooperative_name": row.cooperative_name, "source": row.source,
            "payee_type": row.payee_type, "payee_name": row.payee_name,
            "bank_name": row.bank_name, "bank_account_masked": row.bank_account_masked,
            "amount_fen": int(row.amount_fen), "status": row.status, "bank_ref": row.bank_ref,
            "paid_on": paid_on, "reverses_id": row.reverses_id}
