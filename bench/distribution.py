"""Benchmark of the yearly surplus: computing and persisting distribution plans.

    .venv/bin/python bench/distribution.py            # a temporary SQLite file, then MariaDB
    BENCH_MYSQL_URL=mysql+pymysql://root@127.0.0.1/coop_bench_distribution \
        .venv/bin/python bench/distribution.py        # (tables of that database are recreated!)
    .venv/bin/python bench/distribution.py --sqlite-only

Builds (bulk-inserted, not timed) a cooperative of 5,000 members and a county of 151
cooperatives × 500 members, each member with capital in the register and most with
trades, then prints for each database:

* one 5,000-member plan computed and persisted through `create_plan` (gather the basis,
  compute, insert plan + lines, audit, commit) — goal < 1 s — with its parts;
* the county run: `plan_county` over the 151 cooperatives (75,500 lines, one transaction
  per cooperative), beside the raw floor — the same 75,500 line rows written with the
  DB-API's `executemany`, one transaction per cooperative, into the same table — goal
  ≤ 2× the floor;
* peak memory of the process (ru_maxrss) — goal < 300 MB;
* one more county run with its parts timed per cooperative (basis reads, maths, digest,
  lines insert, audit append, the rest).

Each measurement is repeated `--rounds` times (default 3; the plans are deleted between
rounds) and the median printed beside every round: the machine this runs on is shared.
Each county run is compared with the floor measured right after it, and the ratio printed
is the median of those per-round ratios. The floor is the driver's own `executemany` of
the finished rows (built before its clock starts), one commit per cooperative: on SQLite
the same call the run makes; on MariaDB pymysql turns it into multi-row INSERTs, escaping
each value, where the run sends its all-integer rows as multi-row literals
(`services._insert_lines`) — so there the run's insert itself is a little cheaper than
the floor's, and the ratio says what everything else (reads, maths, audit) costs.
"""
from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, insert, select  # noqa: E402

from coop import create_app  # noqa: E402
from coop.extensions import db  # noqa: E402

BIG = 5_000
COOPS, PER_COOP = 151, 500
YEAR = 2024
DEFAULT_MYSQL = "mysql+pymysql://root@127.0.0.1/coop_bench_distribution"
RESERVE, PATRONAGE = Decimal("0.10"), Decimal("0.60")


def _app(url: str):
    return create_app({"COOP_ENV": "testing", "TESTING": True, "LOG_LEVEL": "WARNING",
                       "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
                       "JWT_SECRET": "bench-jwt-secret-that-is-long-enough-0123456789",
                       "FIELD_ENCRYPTION_KEY": "bench-field-key-that-is-long-enough-01234"})


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _county(session, code: str):
    from coop.places.models import County, Town
    county = County(name=f"县{code}", code=code)
    session.add(county)
    session.flush()
    town = Town(county_id=county.id, name="镇")
    session.add(town)
    session.flush()
    return county, town


def _cooperative(session, county, town, n: int):
    from coop.places.models import Village
    from coop.registry.models import Cooperative
    village = Village(county_id=county.id, town_id=town.id, name=f"村{n}",
                      code=f"{county.code}{n:06d}")
    session.add(village)
    session.flush()
    coop = Cooperative(county_id=county.id, town_id=town.id, village_id=village.id,
                       name=f"合作社{n}", credit_code=f"93{county.code}MA{n:08d}",
                       founded_on=date(2020, 1, 1), distribution_method="statutory")
    session.add(coop)
    session.flush()
    return coop


def _fill(session, coop, members: int, rng: random.Random) -> None:
    """Members with capital (register lines + balances), trades and the year's account."""
    from coop.distribution.models import AnnualAccount, Trade
    from coop.registry.models import Member
    from coop.shares.models import ShareBalance, ShareLine, ShareOperation, ShareRegisterHead
    session.execute(insert(Member), [{
        "county_id": coop.county_id, "cooperative_id": coop.id, "name": f"成员{i}",
        "member_type": "collective" if i == 0 else "farmer", "id_card_enc": "bench",
        "id_card_hash": f"{coop.id}-{i}", "id_card_masked": "370000********0000",
        "joined_on": date(2020, 1, 1), "status": "active",
        "collective_of": coop.id if i == 0 else None} for i in range(members)])
    ids = session.execute(select(Member.id).where(Member.cooperative_id == coop.id)
                          .order_by(Member.id)).scalars().all()
    op = ShareOperation(county_id=coop.county_id, cooperative_id=coop.id, member_id=ids[0],
                        type="subscribe", kind="cash", amount_fen=1, effective_on=date(2020, 1, 1),
                        status="approved")
    session.add(op)
    session.flush()
    capital = [rng.randint(100_000, 5_000_000) for _ in ids]
    session.execute(insert(ShareLine), [{
        "county_id": coop.county_id, "cooperative_id": coop.id, "line_no": n + 1,
        "member_id": m, "operation_id": op.id, "kind": "cash", "delta_fen": fen,
        "effective_on": date(2020, 1, 1)} for n, (m, fen) in enumerate(zip(ids, capital))])
    session.execute(insert(ShareBalance), [{
        "cooperative_id": coop.id, "member_id": m, "county_id": coop.county_id,
        "cash_fen": fen, "land_fen": 0, "collective_asset_fen": 0, "fiscal_subsidy_fen": 0,
        "labour_fen": 0, "total_fen": fen} for m, fen in zip(ids, capital)])
    session.add(ShareRegisterHead(cooperative_id=coop.id, last_line_no=len(ids)))
    session.execute(insert(Trade), [{
        "county_id": coop.county_id, "cooperative_id": coop.id, "member_id": m, "year": YEAR,
        "amount_fen": rng.randint(1, 20_000_000), "occurred_on": date(YEAR, 6, 1)}
        for m in ids if rng.random() < 0.8])
    session.add(AnnualAccount(county_id=coop.county_id, cooperative_id=coop.id, year=YEAR,
                              revenue_fen=members * 900_000, cost_fen=members * 500_000,
                              prior_loss_fen=0, wages_paid_fen=0, labour_days=0,
                              fiscal_subsidy_fen=members * 10_001))
    session.commit()


def build(rng: random.Random):
    session = db.session
    county, town = _county(session, "371799")
    big = _cooperative(session, county, town, 0)
    _fill(session, big, BIG, rng)
    county_run, town_run = _county(session, "371722")
    for n in range(1, COOPS + 1):
        _fill(session, _cooperative(session, county_run, town_run, n), PER_COOP, rng)
    return big.id, county_run.id


class _Stopwatch:
    """Times the calls of some module functions during one run (the parts of a plan)."""

    def __init__(self, *targets):
        self.targets, self.spent, self.originals = targets, {}, {}

    def __enter__(self):
        for module, name in self.targets:
            self.originals[name] = original = getattr(module, name)
            self.spent[name] = 0.0

            def timed(*args, _original=original, _name=name, **kwargs):
                start = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    self.spent[_name] += time.perf_counter() - start
            setattr(module, name, timed)
        return self

    def __exit__(self, *exc):
        for module, name in self.targets:
            setattr(module, name, self.originals[name])


def bench_big_plan(coop_id: int, rounds: int) -> None:
    from coop.distribution import compute, services
    from coop.distribution.models import DistributionLine, DistributionPlan
    from coop.registry.models import Cooperative
    session = db.session
    totals, parts = [], []
    for _ in range(rounds):
        coop = session.get(Cooperative, coop_id)
        with _Stopwatch((services, "gather_basis"), (compute, "distribute"),
                        (services, "_insert_lines")) as watch:
            start = time.perf_counter()
            plan = services.create_plan(session, None, coop, YEAR, RESERVE, PATRONAGE)
            totals.append(time.perf_counter() - start)
        parts.append(watch.spent)
        plan_id, line_count = plan.id, plan.line_count
        session.execute(delete(DistributionLine).where(DistributionLine.plan_id == plan_id))
        session.execute(delete(DistributionPlan).where(DistributionPlan.id == plan_id))
        session.commit()
    total = median(totals)
    spent = ", ".join(f"{name.strip('_')} {median(p[name] for p in parts) * 1000:.0f} ms"
                      for name in parts[0])
    print(f"  5,000-member plan computed + persisted: {total * 1000:7.0f} ms, median of "
          f"{', '.join(f'{t * 1000:.0f}' for t in totals)} ({line_count} lines; {spent}; "
          f"the rest is checks, plan row, audit, commit)  goal < 1000 ms")


def bench_county_run(county_id: int, rounds: int) -> None:
    """`rounds` times: the county run, then the raw floor of the same rows, then both
    removed again. The machine is shared: a run and its floor measured back to back see
    about the same load, and the median of the rounds keeps one bad moment out."""
    from coop.distribution.models import DistributionLine, DistributionPlan
    from coop.distribution.services import plan_county
    session = db.session
    before = _peak_mb()
    runs, floors, singles, line_count = [], [], [], 0
    for _ in range(rounds):
        start = time.perf_counter()
        outcome = plan_county(session, None, county_id, YEAR, RESERVE, PATRONAGE)
        runs.append(time.perf_counter() - start)
        plan_ids = [int(v) for v in outcome.values() if v.isdigit()]
        assert len(plan_ids) == COOPS, outcome
        floor, single, line_count = _raw_floor(session, plan_ids)
        floors.append(floor)
        singles.append(single)
        # Start the next round from the same state: the run's plans and lines go.
        session.execute(delete(DistributionLine).where(DistributionLine.plan_id.in_(plan_ids)))
        session.execute(delete(DistributionPlan).where(DistributionPlan.id.in_(plan_ids)))
        session.commit()
    run, floor, single = median(runs), median(floors), median(singles)
    ratios = sorted(r / f for r, f in zip(runs, floors))
    print(f"  county run: {COOPS} cooperatives × {PER_COOP} members = {line_count} lines: "
          f"{run:6.2f} s ({run / COOPS * 1000:.0f} ms per cooperative; median of {rounds}: "
          f"{', '.join(f'{r:.2f}' for r in runs)})")
    print(f"  raw executemany of the same {line_count} rows (one transaction per cooperative):"
          f" {floor:6.2f} s ({', '.join(f'{f:.2f}' for f in floors)})")
    print(f"  → run / floor = {median(ratios):.2f}× (median of each round's run / its floor: "
          f"{', '.join(f'{r:.2f}' for r in ratios)})  goal ≤ 2×")
    print(f"  (the same rows as one executemany and one transaction: {single:.2f} s, "
          f"run / that = {run / single:.2f}×)")
    print(f"  peak memory (ru_maxrss): {_peak_mb():.0f} MB "
          f"(before the county run {before:.0f} MB)  goal < 300 MB")
    _county_run_parts(county_id)


def _county_run_parts(county_id: int) -> None:
    """One more county run with its parts timed, per cooperative: where the time beyond
    the floor goes (the floor itself is about the lines' insert and the commit)."""
    from coop import audit
    from coop.distribution import compute, services
    from coop.distribution.models import DistributionLine, DistributionPlan
    session = db.session
    with _Stopwatch((services, "gather_bases"), (compute, "distribute"),
                    (services, "basis_digest"), (services, "_insert_lines"),
                    (audit, "_append_pending")) as watch:
        start = time.perf_counter()
        outcome = services.plan_county(session, None, county_id, YEAR, RESERVE, PATRONAGE)
        total = time.perf_counter() - start
    plan_ids = [int(v) for v in outcome.values()]
    session.execute(delete(DistributionLine).where(DistributionLine.plan_id.in_(plan_ids)))
    session.execute(delete(DistributionPlan).where(DistributionPlan.id.in_(plan_ids)))
    session.commit()
    names = {"gather_bases": "basis reads", "distribute": "maths", "basis_digest": "digest",
             "_insert_lines": "lines insert", "_append_pending": "audit append"}
    parts = ", ".join(f"{names[name]} {spent / COOPS * 1000:.2f}"
                      for name, spent in watch.spent.items())
    rest = (total - sum(watch.spent.values())) / COOPS * 1000
    print(f"  per cooperative, one more run timed by part ({total / COOPS * 1000:.1f} ms): "
          f"{parts}, the rest (plan row, commit, session) {rest:.2f} ms")


def _raw_floor(session, plan_ids: list[int]) -> tuple[float, float, int]:
    """The raw floor: the lines the run just wrote, written again with the DB-API's
    `executemany`, one transaction per cooperative, into the same table (indexes and
    foreign keys included) under copies of the plans; then the same rows as one
    executemany and one transaction. (seconds per cooperative transaction, seconds as
    one, lines)."""
    from coop.distribution.models import DistributionLine, DistributionPlan
    columns = [c.name for c in DistributionLine.__table__.columns if c.name != "id"]
    rows_by_plan = {}
    for plan_id in plan_ids:
        rows_by_plan[plan_id] = session.execute(
            select(*(DistributionLine.__table__.c[c] for c in columns))
            .where(DistributionLine.plan_id == plan_id)).all()
    line_count = sum(len(r) for r in rows_by_plan.values())
    # Copies of the plans (cancelled, so the one-live-plan key ignores them) to hold the
    # same rows again in the same table.
    copies = {}
    for plan_id in plan_ids:
        original = session.get(DistributionPlan, plan_id)
        copy = DistributionPlan(**{c.name: getattr(original, c.name)
                                   for c in DistributionPlan.__table__.columns
                                   if c.name not in ("id", "public_token")})
        copy.status, copy.live_year = "cancelled", None
        session.add(copy)
        session.flush()
        copies[plan_id] = copy.id
    session.commit()
    raw = db.engine.raw_connection()
    mark = "?" if db.engine.dialect.name == "sqlite" else "%s"
    sql = (f"INSERT INTO distribution_lines ({', '.join(columns)}) "
           f"VALUES ({', '.join([mark] * len(columns))})")
    plan_at = columns.index("plan_id")
    params = {plan_id: [_renumbered(row, plan_at, copies[plan_id]) for row in rows]
              for plan_id, rows in rows_by_plan.items()}   # built before the clock starts
    copy_ids = ", ".join(str(c) for c in copies.values())
    start = time.perf_counter()
    cursor = raw.cursor()
    for rows in params.values():
        cursor.executemany(sql, rows)
        raw.commit()
    floor = time.perf_counter() - start
    cursor.execute(f"DELETE FROM distribution_lines WHERE plan_id IN ({copy_ids})")
    raw.commit()
    everything = [row for rows in params.values() for row in rows]
    start = time.perf_counter()
    cursor.executemany(sql, everything)
    raw.commit()
    single = time.perf_counter() - start
    cursor.execute(f"DELETE FROM distribution_lines WHERE plan_id IN ({copy_ids})")
    cursor.execute(f"DELETE FROM distribution_plans WHERE id IN ({copy_ids})")
    raw.commit()
    cursor.close()
    raw.close()
    return floor, single, line_count


def _renumbered(row, at: int, plan_id: int) -> tuple:
    return tuple(plan_id if i == at else value for i, value in enumerate(row))


def run(url: str, label: str, rounds: int) -> None:
    app = _app(url)
    gc.freeze()   # as wsgi.py does for the server and the CLI
    with app.app_context():
        db.drop_all()
        db.create_all()
        start = time.perf_counter()
        big_id, county_id = build(random.Random(2024))
        print(f"{label}: setup {time.perf_counter() - start:.1f} s "
              f"({BIG + COOPS * PER_COOP} members)")
        bench_big_plan(big_id, rounds)
        bench_county_run(county_id, rounds)
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--mysql-only", action="store_true")
    parser.add_argument("--rounds", type=int, default=3,
                        help="county runs, each beside its raw floor (default 3)")
    args = parser.parse_args()
    if not args.mysql_only:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{tmp}/bench.sqlite3", "SQLite", args.rounds)
    if not args.sqlite_only:
        run(os.environ.get("BENCH_MYSQL_URL", DEFAULT_MYSQL), "MariaDB", args.rounds)


if __name__ == "__main__":
    main()
