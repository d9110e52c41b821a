"""Benchmark of the city dashboard: 9 counties × 151 cooperatives × 500 members.

    BENCH_MYSQL_URL=mysql+pymysql://root@127.0.0.1/coop_bench_city \
        .venv/bin/python bench/city.py --db mysql          # (its tables are recreated!)
    … --db mysql --reuse        # time again the city the last run built (no rebuild)
    .venv/bin/python bench/city.py --db sqlite --counties 2 --coops 5 --members 20   # tiny

Builds a city (菏泽 in size: 9 counties of Yuncheng's 151 cooperatives, 500 members each —
679,500 members) with bulk inserts (`coop.seed.seed_county` for the places, cooperatives and
members; then per cooperative a chair and four board and supervisory members, the
village secretary's term, a professional manager, a paid distribution plan with a line for
every member, an annual account, entered collective income for three years, status
changes, commissioners), then times `GET /reports/dashboard?city_id=&year=` end to end
through the app (a city_viewer's token; median of `--rounds`) and the figures function
alone. Goal: < 500 ms on MariaDB.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import common  # first: puts the repository on sys.path
from sqlalchemy import insert, select

from coop.extensions import db

YEAR = 2024
BOARD = ("chair", "director", "director", "supervisor_chair", "supervisor")


def _bulk(model, rows, chunk=5000):
    for start in range(0, len(rows), chunk):
        db.session.execute(insert(model), rows[start:start + chunk])


def build_city(counties: int, coops: int, members: int) -> tuple[object, list]:
    import coop.crypto as crypto
    from auth.models import RoleAssignment, User
    from coop.county.models import CollectiveIncomeItem
    from coop.distribution.models import AnnualAccount, DistributionLine, DistributionPlan
    from coop.places.cities import City
    from coop.places.models import VillageSecretary
    from coop.registry.models import (Cooperative, CooperativeStatusChange, Member, Officer,
                                      ProfessionalManager)
    from coop.seed import seed_county
    city = City(name="压测市", code="379000")
    db.session.add(city)
    db.session.flush()
    # One encrypted number reused by every bench person: encryption is not what is timed.
    enc, masked = crypto.encrypt("110101199003070017"), crypto.mask_id_card("110101199003070017")
    out = []
    for k in range(counties):
        county = seed_county(db.session, coops, members, code=f"3790{k + 1:02d}", seed=k + 1)
        county.city_id = city.id
        rows = db.session.execute(select(Cooperative.id, Cooperative.village_id)
                                  .where(Cooperative.county_id == county.id)
                                  .order_by(Cooperative.id)).all()
        officers, secretaries, managers, changes, accounts, income, plans = ([] for _ in range(7))
        for n, (coop_id, village_id) in enumerate(rows):
            person = lambda tag: {"id_card_enc": enc, "id_card_masked": masked,  # noqa: E731
                                  "id_card_hash": f"{county.id}-{coop_id}-{tag}"}
            for seat, role in enumerate(BOARD):
                officers.append(dict(county_id=county.id, cooperative_id=coop_id, role=role,
                                     name=f"{role}{n}", village_committee_member=seat % 7 != 3,
                                     start_on=date(2021, 1, 1), **person(role)))
            secretaries.append(dict(county_id=county.id, village_id=village_id,
                                    name="chair" + str(n) if n % 40 else f"他人{n}",
                                    start_on=date(2020, 1, 1)))
            managers.append(dict(county_id=county.id, cooperative_id=coop_id, name=f"经理{n}",
                                 contract_start=date(YEAR, 1, 1),
                                 contract_end=date(YEAR + 2, 1, 1),
                                 base_pay_fen_per_year=6_000_000, **person("manager")))
            if n % 3 == 0:
                changes.append(dict(county_id=county.id, cooperative_id=coop_id,
                                    from_status="active", to_status="standardized",
                                    reason="规范提升", effective_on=date(YEAR, 6, 1)))
            accounts.append(dict(county_id=county.id, cooperative_id=coop_id, year=YEAR,
                                 revenue_fen=3_000_000, cost_fen=1_000_000,
                                 wages_paid_fen=84_000_00, labour_days=900))
            for year, fen in ((YEAR - 3, 8_000_000), (YEAR - 1, 9_000_000 + n * 10_000),
                              (YEAR, 11_400_000 + n * 10_000)):
                income.append(dict(county_id=county.id, village_id=village_id, year=year,
                                   source="entered", source_id=0, amount_fen=fen))
            plans.append(dict(county_id=county.id, cooperative_id=coop_id, year=YEAR,
                              method="statutory", reserve_rate=Decimal("0.10"), status="paid",
                              basis_digest="0" * 64, line_count=members))
        for model, batch in ((Officer, officers), (VillageSecretary, secretaries),
                             (ProfessionalManager, managers),
                             (CooperativeStatusChange, changes), (AnnualAccount, accounts),
                             (CollectiveIncomeItem, income), (DistributionPlan, plans)):
            _bulk(model, batch)
        plan_of = dict(db.session.execute(select(DistributionPlan.cooperative_id,
                                                 DistributionPlan.id)
                                          .where(DistributionPlan.county_id == county.id)).all())
        lines = [dict(plan_id=plan_of[coop_id], county_id=county.id, cooperative_id=coop_id,
                      member_id=member_id, is_collective=collective is not None,
                      total_fen=5_000 if collective is None else 300_000)
                 for member_id, coop_id, collective in db.session.execute(
                     select(Member.id, Member.cooperative_id, Member.collective_of)
                     .where(Member.county_id == county.id))]
        _bulk(DistributionLine, lines)
        # 85 commissioners paired with the county's cooperatives (Yuncheng: 85 for 151).
        users = [User(phone=f"17{k:01d}{u:08d}", name=f"第一书记{u}") for u in range(85)]
        db.session.add_all(users)
        db.session.flush()
        _bulk(RoleAssignment, [dict(user_id=users[n % 85].id, role="commissioner",
                                    scope_type="cooperative", scope_id=coop_id, department="")
                               for n, (coop_id, _) in enumerate(rows)])
        db.session.commit()
        out.append(county)
        print(f"  county {k + 1}/{counties}: {len(rows)} cooperatives, {len(lines)} members",
              flush=True)
    return city, out


def run(label: str, url: str, counties: int, coops: int, members: int, rounds: int,
        reuse: bool = False) -> None:
    from auth.models import RoleAssignment, User
    from auth.tokens import issue_pair
    app = common.make_app(url)
    with app.app_context():
        from coop.places.cities import City
        if reuse:   # the city a previous run built (its build takes minutes on MariaDB)
            city = db.session.execute(select(City).where(City.code == "379000")).scalar_one()
            viewer = db.session.execute(
                select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
                .where(RoleAssignment.role == "city_viewer").limit(1)).scalar_one()
        else:
            common.fresh_tables(db)
            started = time.perf_counter()
            city, built = build_city(counties, coops, members)
            print(f"{label}: built in {time.perf_counter() - started:.0f} s", flush=True)
            viewer = User(phone="16600000000", name="市委组织部", roles=[RoleAssignment(
                role="city_viewer", scope_type="city", scope_id=city.id, department="")])
            db.session.add(viewer)
            db.session.flush()
        headers = {"Authorization": f"Bearer {issue_pair(db.session, viewer)['access_token']}"}
        db.session.commit()
        client = app.test_client()
        query = {"city_id": city.id, "year": YEAR}
        first = client.get("/api/v1/reports/dashboard", headers=headers, query_string=query)
        assert first.status_code == 200, first.get_json()
        total = first.get_json()["total"]
        assert total["cooperatives_total"] == counties * coops, total
        http = []
        for _ in range(rounds):
            start = time.perf_counter()
            response = client.get("/api/v1/reports/dashboard", headers=headers,
                                  query_string=query)
            http.append(time.perf_counter() - start)
            assert response.status_code == 200
        from coop.places.cities import counties_of
        from coop.reports.figures import figures_of_counties
        import coop.clock as clock
        ids = [c.id for c in counties_of(db.session, city)]
        alone = []
        for _ in range(rounds):
            db.session.expire_all()
            start = time.perf_counter()
            figures_of_counties(db.session, ids, YEAR, clock.today())
            alone.append(time.perf_counter() - start)
            db.session.rollback()
        print(f"{label}: {counties} counties × {coops} cooperatives × {members} members; "
              f"GET /reports/dashboard?city_id: {common.spread(http)} (goal < 500 ms); "
              f"figures_of_counties alone: {common.spread(alone)}; "
              f"secretary_chair_ratio {total['secretary_chair_ratio']}, "
              f"cross_appointment_ratio {total['cross_appointment_ratio']}; "
              f"{common.machine()}", flush=True)
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_db_option(parser)
    parser.add_argument("--counties", type=int, default=9)
    parser.add_argument("--coops", type=int, default=151)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--reuse", action="store_true",
                        help="time the city a previous run left in the MariaDB database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="coop-bench-city-") as tmp:
        for label, url in common.targets(args.db, Path(tmp), "coop_bench_city"):
            run(label, url, args.counties, args.coops, args.members, args.rounds,
                args.reuse and label == "MariaDB")


if __name__ == "__main__":
    main()
