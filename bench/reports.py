"""Benchmark of the reports: the county's xlsx payout report and the dashboard.

    .venv/bin/python bench/reports.py                          # temporary SQLite file
    BENCH_DATABASE_URL=mysql+pymysql://root@127.0.0.1/coop_bench_reports \
        .venv/bin/python bench/reports.py                      # MariaDB (tables recreated!)

Builds one county of 151 cooperatives (Yuncheng's standardized count) with 500 payout
lines each — 75,500 lines, bulk-inserted — then prints, from the same run:

* the xlsx county report (`report_rows` + `write_xlsx`) beside a raw write-only dump of
  the same rows (the same SELECT, XlsxWriter constant_memory, `write_row` of the tuples):
  goal ≤ 1.3×;
* the peak Python memory (tracemalloc) of the report, and the process's max RSS;
* the dashboard for the 151-cooperative county: goal < 300 ms.
"""
from __future__ import annotations

import os
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import xlsxwriter  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from coop import create_app  # noqa: E402
from coop.extensions import db  # noqa: E402

YEAR = 2024
COOPS = 151
LINES_PER_COOP = 500                     # 480 distribution, 10 reward, 10 subsidy
TOWNS = 16
ZONE_SIZE = 5
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "建国秀英桂兰玉梅志强海燕丽娟红霞明华德胜春生文军"


def _app():
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='coop-bench-reports-')}/bench.sqlite3"
    app = create_app({"COOP_ENV": "testing", "TESTING": True, "LOG_LEVEL": "WARNING",
                      "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    return app, url


def _bulk(model, rows, chunk=5000):
    for start in range(0, len(rows), chunk):
        db.session.execute(insert(model), rows[start:start + chunk])


def build_county() -> int:
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
                for i in range(COOPS + 49)]
    db.session.add_all(villages)
    db.session.flush()
    coops = [Cooperative(county_id=cid, town_id=v.town_id, village_id=v.id,
                         name=f"{v.name}股份经济合作社", credit_code=f"93371725MA{i:08d}",
                         founded_on=date(2019, 5, 1), industry="种植",
                         status=("standardized", "active", "shell")[i % 3])
             for i, v in enumerate(villages[:COOPS])]
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
    db.session.commit()
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


def main() -> None:
    app, url = _app()
    with app.app_context():
        db.drop_all()
        db.create_all()
        start = time.perf_counter()
        county_id = build_county()
        print(f"database: {url.split('@')[-1]}")
        print(f"built county: {COOPS} cooperatives, {COOPS * LINES_PER_COOP} payout lines "
              f"in {time.perf_counter() - start:.1f} s")
        from coop.places.models import County
        from coop.reports.payouts_report import scope_of
        county = db.session.get(County, county_id)
        report = scope_of(db.session, "county", county, YEAR)
        out = tempfile.mkdtemp(prefix="coop-bench-reports-out-")
        raw_path, report_path = f"{out}/raw.xlsx", f"{out}/report.xlsx"
        raw_dump(report, raw_path)                       # warm the caches once
        raws, reports = [], []
        for _ in range(int(os.environ.get("BENCH_ROUNDS", "3"))):  # interleaved, best of
            raws.append(timed(raw_dump, report, raw_path))
            reports.append(timed(county_report, report, report_path))
        for label, runs in (("xlsx raw write-only dump", raws), ("xlsx county report", reports)):
            print(f"{label:25}: wall {min(w for w, _ in runs):6.2f} s, "
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
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"report peak Python memory (tracemalloc): {peak / 1e6:.1f} MB; "
              f"process max RSS so far: {rss_mb:.0f} MB")
        today = date(YEAR, 12, 31)
        bench_dashboard(county, today, "dashboard")
        print(f"load average during the run: {os.getloadavg()[0]:.1f} "
              f"({os.cpu_count()} CPUs)")


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
    print(f"{label} ({COOPS} cooperatives): median {statistics.median(times):.1f} ms, "
          f"max {max(times):.1f} ms (goal < 300 ms); per figure ms: {', '.join(split)}")

if __name__ == "__main__":
    main()
