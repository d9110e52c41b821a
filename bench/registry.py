"""Registry benchmarks: prints numbers, asserts nothing.

    .venv/bin/python bench/registry.py                      # SQLite (temp file) and MariaDB
    .venv/bin/python bench/registry.py --db sqlite --coops 2 --members 20 --rows 100  # tiny
    BENCH_MYSQL_URL=mysql+pymysql://root@127.0.0.1/coop_bench_registry … --db mysql

For each database: `flask seed county --coops 151 --members 500` (wall time), the import
of a 5,000-row .xlsx through the HTTP route (seconds), and the member-list page p50/p95
for the cooperative it filled (ms, 60 requests over random pages). `--coops`,
`--members` and `--rows` change the three sizes.
"""
from __future__ import annotations

import argparse
import io
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import common  # first: puts the repository on sys.path


def make_xlsx(rows: int, seed: int = 7) -> bytes:
    from openpyxl import Workbook

    from coop.seed import bank_account, chinese_name, id_card, phone
    rng = random.Random(seed)
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["姓名", "身份证号", "手机号", "成员类型", "入社日期", "开户行", "银行账号"])
    for n in range(rows):
        born = date(1950, 1, 1) + timedelta(days=n % 18000)
        sheet.append([chinese_name(rng), id_card("371722", born, 900 + n // 18000),
                      phone(rng), "农户", "2021-03-01",
                      "单县农村商业银行", bank_account(rng)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(url: str, args) -> dict:
    from auth.models import RoleAssignment, User
    from auth.tokens import issue_pair
    from coop.extensions import db
    from coop.places.models import Town, Village
    from coop.registry.models import Cooperative, Member
    from coop.seed import credit_code
    from coop.transaction import unit_of_work

    app = common.make_app(url)
    results = {}
    with app.app_context():
        common.fresh_tables(db)

    started = time.perf_counter()
    outcome = app.test_cli_runner().invoke(args=[
        "seed", "county", "--coops", str(args.coops), "--members", str(args.members),
        "--code", "379001"])
    results[f"seed county {args.coops}x{args.members} (s)"] = time.perf_counter() - started
    if outcome.exit_code != 0:
        raise SystemExit(f"seed failed: {outcome.output} {outcome.exception!r}")

    with app.app_context(), unit_of_work(db.session):
        town = db.session.execute(db.select(Town)).scalars().first()
        village = Village(county_id=town.county_id, town_id=town.id, name="导入测试村",
                          code="379001999001")
        db.session.add(village)
        db.session.flush()
        coop = Cooperative(county_id=town.county_id, town_id=town.id, village_id=village.id,
                           name="导入测试合作社", credit_code=credit_code("93", "379001", 9999),
                           founded_on=date(2020, 1, 1), industry="种植",
                           distribution_method="statutory", land_rate_fen_per_mu=800_000)
        db.session.add(coop)
        db.session.flush()
        manager = User(phone="13700000001", name="导入测试")
        manager.roles.append(RoleAssignment(role="coop_manager", scope_type="cooperative",
                                            scope_id=coop.id))
        db.session.add(manager)
        db.session.flush()
        headers = {"Authorization": "Bearer " + issue_pair(db.session, manager)["access_token"]}
        coop_id = coop.id

    data = make_xlsx(args.rows)
    client = app.test_client()
    started = time.perf_counter()
    response = client.post(f"/api/v1/cooperatives/{coop_id}/members/import", headers=headers,
                           data={"file": (io.BytesIO(data), "members.xlsx")},
                           content_type="multipart/form-data")
    results[f"import {args.rows:,}-row xlsx (s)"] = time.perf_counter() - started
    if response.status_code != 201:
        raise SystemExit(f"import failed: {response.status_code} {response.get_data()[:500]!r}")
    results["xlsx size (KB)"] = len(data) / 1024

    with app.app_context():
        assert db.session.query(Member).filter_by(cooperative_id=coop_id).count() == args.rows
    rng = random.Random(3)
    timings = []
    for _ in range(60):
        page = rng.randint(1, max(1, args.rows // 20))
        t0 = time.perf_counter()
        r = client.get(f"/api/v1/cooperatives/{coop_id}/members?page={page}&per_page=20",
                       headers=headers)
        timings.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200 and len(r.get_json()["items"]) == 20
    results[f"member list p50 @{args.rows:,} (ms)"] = statistics.median(timings)
    results[f"member list p95 @{args.rows:,} (ms)"] = statistics.quantiles(timings, n=20)[-1]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_db_option(parser)
    parser.add_argument("--coops", type=int, default=151, help="seeded cooperatives")
    parser.add_argument("--members", type=int, default=500, help="members of each")
    parser.add_argument("--rows", type=int, default=5_000, help="rows of the imported xlsx")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="coop-bench-registry-") as tmp:
        for label, url in common.targets(args.db, Path(tmp), "coop_bench_registry"):
            results = run(url, args)
            print(f"== {label} ({common.machine()})")
            for name, value in results.items():
                print(f"  {name:32s} {value:8.2f}")


if __name__ == "__main__":
    main()
