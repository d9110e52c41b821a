"""Benchmark of the reports: the county's xlsx payout report and the dashboard.

    .venv/bin/python bench/reports.py                  # a temporary SQLite file, then MariaDB
    .venv/bin/python bench/reports.py --db sqlite --coops 3 --rounds 1        # tiny
    BENCH_MYSQL_URL=mysql+pymysql://root@127.0.0.1/coop_bench_reports \
        .venv/bin/python bench/reports.py --db mysql   # (its tables are recreated!)

Builds one county of `--coops` cooperatives (default 151, Yuncheng's standardized count)
with 500 payout lines each — 75,500 lines, bulk-inserted — then prints, from the same run:

* the xlsx county report (`report_rows` + `write_xlsx`) beside a raw write-only dump of
  the same rows (the same SELECT, XlsxWriter constant_memory, `write_row` of the tuples):
  goal ≤ 1.3×;
* the peak Python memory (tracemalloc) of the report, and the process's max RSS;
* the dashboard for the 151-cooperative county: goal < 300 ms.

`--rounds` (default 3) interleaved rounds of the report and the raw dump; the best of each
is compared.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timezone
from pathlib import Path

import common  # first: puts the repository on sys.path
import xlsxwriter
from sqlalchemy import insert

from coop.extensions import db
from coop.transaction import unit_of_work

YEAR = 2024
LINES_PER_COOP = 500                     # 480 distribution, 10 reward, 10 subsidy
TOWNS = 16
ZONE_SIZE = 5
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "建国秀英桂兰玉梅志强海燕丽娟红霞明华德胜春生文军"


def _bulk(model, rows, chunk=5000):
    for start in range(0, len(rows), chunk):
        db.session.execute(insert(model), rows[start:start + chunk])


def build_county(coop_count: int) -> int:
    """The county with its places, cooperatives, payouts and dashboard figures."""
    from coop.county.models import CollectiveIncomeItem
    from coop.distribution.models import AnnualAccount
    from coop.payouts.models import PayoutBatch, PayoutLine
    from coop.places.models import County, Town, Village, Zone, ZoneVillage
    from coop.registry.models import Cooperative, Officer
    rng = random.Random(8)
    county = County(name="郓城县", code="371725")
    db.session.add(county)
    db.session.flush()
    cid = county.id
    towns = [Town(county_id=cid, name=f"镇{i:02d}") for i in range(TOWNS)]
    db.session.add_all(towns)
    db.session.flush()
    villages = [Village(county_id=cid, town_id=towns[i % TOWNS].id, name=f"村{i:03d}",
                        code=f"371725{i:06d}", party_secretary_name="李书记")
                for i in range(coop_count + 49)]
    db.session.add_all(villages)
    db.session.flush()
    coops = [Cooperative(county_id=cid, town_id=v.town_id, village_id=v.id,
                         name=f"{v.name}股份经济合作社", credit_code=f"93371725MA{i:08d}",
                         founded_on=date(2019, 5, 1), industry="种植",
                         status=("standardized", "active", "shell")[i % 3])
             for i, v in enumerate(villages[:coop_count])]
    db.session.add_all(coops)
    db.session.flush()
    by_town: dict[int, list] = {}
    for v in villages:
        by_town.setdefault(v.town_id, []).append(v)
    for town_villages in by_town.values():
        for start in range(0, len(town_villages) - ZONE_SIZE + 1, ZONE_SIZE * 2):
            zone = Zone(county_id=cid, town_id=town_villages[0].town_id, name=f"片区{start}")
            db.session.add(zone)
            db.session.flush()
            _bulk(ZoneVillage, [{"zone_id": zone.id, "village_id": v.id}
                                for v in town_villages[start:start + ZONE_SIZE]])
    _bulk(CollectiveIncomeItem, [
        {"county_id": cid, "village_id": v.id, "year": y, "source": "entered", "source_id": 0,
         "amount_fen": rng.randrange(0, 80_000_000)}
        for v in villages for y in (YEAR - 1, YEAR)])
    _bulk(AnnualAccount, [{"county_id": cid, "cooperative_id": c.id, "year": YEAR,
                           "revenue_fen": 0, "cost_fen": 0, "prior_loss_fen": 0,
                           "wages_paid_fen": rng.randrange(10**7), "labour_days":
                           rng.randrange(2000), "fiscal_subsidy_fen": 0} for c in coops])
    _bulk(Officer, [{"county_id": cid, "cooperative_id": c.id, "role": role,
                     "village_committee_member": rng.random() < 0.9,
                     "start_on": date(2021, 1, 1), "name": "干部", "id_card_enc": "x",
                     "id_card_hash": f"{c.id}-{k}", "id_card_masked": "3717**"}
                    for c in coops for k, role in enumerate(
                        ("chair", "director", "director", "supervisor_chair", "supervisor",
                         "accountant"))])
    now = datetime.now(timezone.utc)
    line_rows = []
    for c in coops:
        for source, count in (("distribution", 480), ("reward", 10), ("subsidy", 10)):
            amounts = [rng.randrange(1, 5_000_00) for _ in range(count)]
            batch = PayoutBatch(county_id=cid, cooperative_id=c.id, source=source,
                                source_id=c.id, year=YEAR, line_count=count,
                                total_fen=sum(amounts), status="open")
            db.session.add(batch)
            db.session.flush()
            for n, fen in enumerate(amounts):
                paid = rng.random() < 0.8
                line_rows.append({
                    "batch_id": batch.id, "county_id": cid, "cooperative_id": c.id,
                    "town_id": c.town_id, "source": source, "year": YEAR,
                    "payee_type": "member", "bank_name": "农业银行",
                    "payee_name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                    "bank_account_masked": f"***************{n:04d}", "amount_fen": fen,
                    "is_collective": False, "status": "paid" if paid else "pending",
                    "bank_ref": f"ABC{batch.id:06d}{n:05d}" if paid else None,
                    "paid_on": date(YEAR, 9, 30) if paid else None, "created_at": now})
    _bulk(PayoutLine, line_rows)
    return cid


def raw_dump(report, path: str) -> int:
    """The floor: the same SELECT written as-is, write-only, no formats or subtotals."""
    from coop.reports.payouts_report import lines_query
    book = xlsxwriter.Workbook(path, {"constant_memory": True})
    sheet = book.add_worksheet()
    rows = 0
    result = db.session.execute(lines_query(report).execution_options(yield_per=2000))
    for rows, row in enumerate(result, start=1):
        sheet.write_row(rows, 0, row)
    book.close()
    return rows


def county_report(report, path: str) -> None:
    from coop.reports.exporters import write_xlsx
    from coop.reports.payouts_report import report_rows
    with open(path, "wb") as fh:
        write_xlsx(report, report_rows(db.session, report), fh)


def timed(fn, *args) -> tuple[float, float]:
    """(wall, CPU) seconds of one call; CPU time is this process's, steadier on a busy
    machine (with MariaDB the server's share is not in it, the same for both runs)."""
    db.session.rollback()
    wall, cpu = time.perf_counter(), time.process_time()
    fn(*args)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    db.session.rollback()
    return wall, cpu


def run(label: str, url: str, coops: int, rounds: int, out: Path) -> None:
    app = common.make_app(url)
    with app.app_context():
        common.fresh_tables(db)
        start = time.perf_counter()
        with unit_of_work(db.session):
            county_id = build_county(coops)
        print(f"\n== {label}: county of {coops} cooperatives, {coops * LINES_PER_COOP} payout "
              f"lines (built in {time.perf_counter() - start:.1f} s; {common.machine()})")
        from coop.places.models import County
        from coop.reports.payouts_report import scope_of
        county = db.session.get(County, county_id)
        report = scope_of(db.session, "county", county, YEAR)
        raw_path, report_path = str(out / "raw.xlsx"), str(out / "report.xlsx")
        raw_dump(report, raw_path)                       # warm the caches once
        raws, reports = [], []
        for _ in range(rounds):                          # interleaved, best of
            raws.append(timed(raw_dump, report, raw_path))
            reports.append(timed(county_report, report, report_path))
        for name, runs in (("xlsx raw write-only dump", raws), ("xlsx county report", reports)):
            print(f"{name:25}: wall {min(w for w, _ in runs):6.2f} s, "
                  f"CPU {min(c for _, c in runs):6.2f} s  "
                  f"(runs wall {', '.join(f'{w:.2f}' for w, _ in runs)})")
        wall_ratio = min(w for w, _ in reports) / min(w for w, _ in raws)
        cpu_ratio = min(c for _, c in reports) / min(c for _, c in raws)
        print(f"county report / raw dump: {wall_ratio:.2f}× wall, {cpu_ratio:.2f}× CPU "
              f"(goal ≤ 1.3×)")
        print(f"file sizes: report {os.path.getsize(report_path) / 1e6:.1f} MB, "
              f"raw {os.path.getsize(raw_path) / 1e6:.1f} MB")
        tracemalloc.start()
        county_report(report, report_path)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        db.session.rollback()
        rss_mb = common.peak_rss_mb()
        print(f"report peak Python memory (tracemalloc): {peak / 1e6:.1f} MB; "
              f"process max RSS so far: {rss_mb:.0f} MB")
        today = date(YEAR, 12, 31)
        bench_dashboard(county, today, f"dashboard ({coops} cooperatives)")
        print(f"  after the run: {common.machine()}")
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_db_option(parser)
    parser.add_argument("--coops", type=int, default=151, help="cooperatives (default 151)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="coop-bench-reports-") as tmp:
        for label, url in common.targets(args.db, Path(tmp), "coop_bench_reports"):
            run(label, url, args.coops, args.rounds, Path(tmp))


def bench_dashboard(county, today, label: str) -> None:
    """Median and max of 20 runs, and the median of each figure's own query."""
    from coop.reports import dashboard as figures
    figures.dashboard(db.session, county, YEAR, today)   # warm-up
    times = []
    for _ in range(20):
        db.session.expire_all()
        start = time.perf_counter()
        figures.dashboard(db.session, county, YEAR, today)
        times.append((time.perf_counter() - start) * 1000)
        db.session.rollback()
    parts = {
        "status": lambda: figures.cooperatives_by_status(db.session, county.id),
        "standardized": lambda: figures.standardized_during(db.session, county.id, YEAR),
        "income": lambda: figures.villages_by_income(db.session, county.id, YEAR),
        "wages": lambda: figures.wages_and_labour(db.session, county.id, YEAR),
        "payouts": lambda: figures.payouts_by_source(db.session, county.id, YEAR),
        "cross": lambda: figures.cross_appointment(db.session, county.id, today),
        "zones": lambda: figures.zone_income(db.session, county.id, YEAR),
    }
    split = []
    for name, run in parts.items():
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            run()
            runs.append((time.perf_counter() - start) * 1000)
        split.append(f"{name} {statistics.median(runs):.0f}")
    db.session.rollback()
    print(f"{label}: median {statistics.median(times):.1f} ms, "
          f"max {max(times):.1f} ms (goal < 300 ms); per figure ms: {', '.join(split)}")

if __name__ == "__main__":
    main()
