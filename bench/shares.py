"""Benchmark of the share ledger: the as-of register and approval throughput.

    .venv/bin/python bench/shares.py            # a temporary SQLite file, then MariaDB
    BENCH_MYSQL_URL=mysql+pymysql://root@127.0.0.1/coop_bench_shares \
        .venv/bin/python bench/shares.py --db mysql   # (its tables are recreated!)
    .venv/bin/python bench/shares.py --db sqlite --members 50 --lines 500 --approvals 4 --runs 1

Builds one cooperative with `--members` members (default 5,000) and `--lines` approved
register lines (default 50,000) spread over five years (bulk-inserted), then prints for
each database:

* the as-of register (`register_as_of`, what GET …/share-register runs) for today and
  for a date in the middle of the history — goal < 200 ms — and the whole HTTP request
  (auth, query, JSON of 5,000 members);
* approval throughput: N submitted subscriptions approved one after another through
  `approve_operation` (lock, rules incl. the cap on the 5,000-member register, lines,
  balances, audit), each in its own unit of work with its commit as a request would,
  in approvals per second — dated today (the usual case: the
  cap is checked from totals and the changed members), back-dated to the middle of the
  history and back-dated to its first months (the cap holds on each of the ~900 or
  ~1,800 later dates: only the changed member's lines and the capital per date are
  read, so the cost grows with the number of later dates only mildly).

It ends with a summary of both databases against the goal.
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import common  # first: puts the repository on sys.path
from sqlalchemy import insert

import coop.clock as clock
from coop.extensions import db
from coop.transaction import unit_of_work

GOAL_MS = 200          # the as-of register, issue 5
START = date(2020, 1, 1)
DAYS = 5 * 365


def _bulk(model, rows, chunk=5_000):
    for start in range(0, len(rows), chunk):
        db.session.execute(insert(model), rows[start:start + chunk])


def build(rng: random.Random, members: int, line_count: int):
    """One cooperative, its members and `line_count` approved one-line subscriptions."""
    from auth.models import RoleAssignment, User
    from coop.places.models import County, Town, Village
    from coop.registry.models import Cooperative, Member
    from coop.shares.ledger import rebuild_balances
    from coop.shares.models import ShareLine, ShareOperation, ShareRegisterHead
    county = County(name="栖霞市", code="370686")
    db.session.add(county)
    db.session.flush()
    town = Town(county_id=county.id, name="蛇窝泊镇")
    db.session.add(town)
    db.session.flush()
    village = Village(county_id=county.id, town_id=town.id, name="东院头村",
                      code="370686100001", party_secretary_name="于书记")
    db.session.add(village)
    db.session.flush()
    coop = Cooperative(county_id=county.id, town_id=town.id, village_id=village.id,
                       name="东院头村股份经济合作社", credit_code="93370686MA0000001X",
                       founded_on=START, land_rate_fen_per_mu=800_000,
                       labour_ticket_rate_fen=200_000)
    db.session.add(coop)
    db.session.flush()
    manager = User(phone="13900000001", name="于书记")
    manager.roles.append(RoleAssignment(role="coop_manager", scope_type="cooperative",
                                        scope_id=coop.id))
    db.session.add(manager)
    db.session.flush()
    _bulk(Member, [dict(county_id=county.id, cooperative_id=coop.id, name=f"成员{i:04d}",
                        member_type="farmer", id_card_enc="x", id_card_hash=f"{i:064d}",
                        id_card_masked="370686********0000", joined_on=START,
                        status="active") for i in range(members)])
    member_ids = [m for (m,) in db.session.execute(
        db.select(Member.id).where(Member.cooperative_id == coop.id).order_by(Member.id))]
    ops, lines = [], []
    for n in range(line_count):
        member_id = member_ids[n % members]
        on = START + timedelta(days=rng.randrange(DAYS))
        kind = rng.choice(("cash", "cash", "land", "labour", "fiscal_subsidy"))
        amount = rng.randrange(1_000, 200_000)
        ops.append(dict(id=n + 1, county_id=county.id, cooperative_id=coop.id,
                        member_id=member_id, type="subscribe", kind=kind, amount_fen=amount,
                        effective_on=on, status="approved"))
        lines.append(dict(county_id=county.id, cooperative_id=coop.id, line_no=n + 1,
                          member_id=member_id, operation_id=n + 1, kind=kind,
                          delta_fen=amount, effective_on=on))
    _bulk(ShareOperation, ops)
    _bulk(ShareLine, lines)
    db.session.add(ShareRegisterHead(cooperative_id=coop.id, last_line_no=line_count))
    db.session.flush()
    rebuild_balances(db.session, coop.id)
    return coop.id, manager.id, member_ids


def _timed(fn, runs: int) -> tuple[float, float, float, float]:
    """(median, best, worst, median CPU) in ms over `runs` calls. This process's CPU time is
    steadier than the wall clock on a busy machine (on MariaDB the server's is not in it)."""
    fn()                                                      # warm caches and the pool
    samples, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        db.session.rollback()
        db.session.expire_all()
    return statistics.median(samples), min(samples), max(samples), statistics.median(cpu)


def run(label: str, url: str, args) -> dict:
    """Build the register in `url` and measure it; returns the figures for the summary."""
    from auth.tokens import issue_pair
    from coop.registry.models import Cooperative
    from coop.shares import services
    from coop.shares.models import ShareOperation
    from coop.shares.register import register_as_of
    app = common.make_app(url)
    approvals, runs = args.approvals, args.runs
    results = {}
    with app.app_context():
        common.fresh_tables(db)
        started = time.perf_counter()
        with unit_of_work(db.session):
            coop_id, manager_id, member_ids = build(random.Random(5), args.members, args.lines)
        print(f"\n== {label}: {args.members:,} members, {args.lines:,} lines "
              f"(built in {time.perf_counter() - started:.1f} s; {common.machine()})")
        coop = db.session.get(Cooperative, coop_id)
        today, middle = clock.today(), START + timedelta(days=DAYS // 2)
        early = START + timedelta(days=30)
        for name, as_of in (("today", today), ("mid-history", middle)):
            median, best, worst, cpu = _timed(
                lambda: register_as_of(db.session, coop, as_of), runs)
            results[f"register {name}"] = median
            print(f"register_as_of ({name:>11}): median {median:7.1f} ms, best {best:7.1f} ms, "
                  f"worst {worst:7.1f} ms, CPU {cpu:7.1f} ms  (goal < {GOAL_MS} ms)")
        from auth.models import User
        with unit_of_work(db.session):
            token = issue_pair(db.session, db.session.get(User, manager_id))["access_token"]
        client = app.test_client()
        path = f"/api/v1/cooperatives/{coop_id}/share-register"
        headers = {"Authorization": f"Bearer {token}"}
        response = client.get(path, headers=headers)
        assert response.status_code == 200 and len(response.get_json()["members"]) == args.members
        for name, query in (("today", ""), ("mid-history", f"?as_of={middle}")):
            median, best, worst, cpu = _timed(
                lambda: client.get(path + query, headers=headers), runs)
            results[f"HTTP GET share-register {name}"] = median
            print(f"GET share-register ({name:>11}, HTTP): median {median:7.1f} ms, "
                  f"best {best:7.1f} ms, worst {worst:7.1f} ms, CPU {cpu:7.1f} ms")

        manager = db.session.get(User, manager_id)
        rng = random.Random(9)
        for name, on, count in (("dated today", today, approvals),
                                ("back-dated to mid-history", middle, max(1, approvals // 4)),
                                ("back-dated to early history", early, max(1, approvals // 4))):
            ids = []
            for _ in range(count):
                with unit_of_work(db.session):
                    ids.append(services.submit_operation(
                        db.session, manager, coop, type="subscribe",
                        member_id=rng.choice(member_ids), kind="cash",
                        amount_fen=rng.randrange(100, 10_000), effective_on=on).id)
            started = time.perf_counter()
            for op_id in ids:        # one request each: its own unit of work and commit
                with unit_of_work(db.session):
                    services.approve_operation(db.session, manager,
                                               db.session.get(ShareOperation, op_id))
            elapsed = time.perf_counter() - started
            results[f"approvals {name}"] = count / elapsed
            print(f"approvals {name}: {count} in {elapsed:.2f} s = {count / elapsed:6.1f} /s "
                  f"({elapsed / count * 1000:.1f} ms each)")
        db.session.remove()
        db.engine.dispose()
    return results


def summary(results: dict[str, dict], members: int, line_count: int) -> None:
    labels = list(results)
    print(f"\n== Summary ({members:,} members, {line_count:,} lines; median of the runs)")
    print(f"{'':38}" + "".join(f"{label:>14}" for label in labels))
    for key in next(iter(results.values())):
        unit = "/s" if key.startswith("approvals") else "ms"
        cells = "".join(f"{results[label][key]:>11.1f} {unit}" for label in labels)
        goal = ""
        if key.startswith("register"):
            met = all(results[label][key] < GOAL_MS for label in labels)
            goal = f"   goal < {GOAL_MS} ms: {'met' if met else 'NOT MET'}"
        print(f"{key:38}{cells}{goal}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_db_option(parser)
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--approvals", type=int, default=200, help="approvals dated today")
    parser.add_argument("--runs", type=int, default=7, help="timed reads of the register")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="coop-bench-shares-") as tmp:
        for label, url in common.targets(args.db, Path(tmp), "coop_bench_shares"):
            results[label] = run(label, url, args)
    summary(results, args.members, args.lines)


if __name__ == "__main__":
    main()
