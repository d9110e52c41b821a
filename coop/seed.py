"""Demo and scale data: `flask seed demo [--if-empty]`, `flask seed county --coops N --members M`.

The demo is built by a list of steps, `DEMO_STEPS`, each `step(session, demo)` adding to
one `Demo` record; a later capability extends the demo by appending a step (shares,
distributions…) and more commands can hang on `cli` (`@cli.cli.command(...)`).
Everything is flushed in bulk and committed once: no commit per row.

Identity numbers are generated with valid GB 11643 / GB 32100 check characters; names
are Chinese; no real person's data is used.
"""
from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import click
from flask import Blueprint, current_app
from flask.cli import with_appcontext
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

import coop.audit as audit
from coop.dbtypes import utcnow
from coop.extensions import db
from coop.transaction import unit_of_work
from coop.places.models import County, Town, Village, VillageSecretary, Zone, ZoneVillage
from coop.registry import people
from coop.registry.models import Cooperative, Member, Officer, ProfessionalManager
from coop.validators import id_card_check_char, is_valid_county_code, uscc_check_char

DEMO_COUNTY = ("单县", "371722")
DEMO_PASSWORD = "coop-demo-2024"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
GIVEN = "建国秀英桂兰玉梅志强海燕丽娟红霞明华德胜春生文军永福金凤淑珍学勇庆丰宝山俊峰晓东振华立新广田"
MOBILE_PREFIXES = ("138", "139", "150", "152", "158", "186", "187")
BANKS = ("中国农业银行单县支行", "单县农村商业银行", "中国邮政储蓄银行单县支行", "中国工商银行单县支行")

cli = Blueprint("seed_cli", __name__, cli_group="seed")


# --- generated identifiers ------------------------------------------------------------------

def id_card(region: str, born: date, seq: int, female: bool | None = None) -> str:
    """A GB 11643-valid number; the 17th digit is odd for men, even for women."""
    order = seq % 1000
    if female is not None and (order % 2 == 0) != female:
        order = (order + 1) % 1000
    first17 = f"{region}{born:%Y%m%d}{order:03d}"
    return first17 + id_card_check_char(first17)


def credit_code(prefix: str, region: str, seq: int) -> str:
    """A GB 32100-valid code: `93` farmers' cooperative, `N2` village collective organisation."""
    first17 = f"{prefix}{region}MA{seq % 10**7:07d}"
    return first17 + uscc_check_char(first17)


def chinese_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def phone(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def bank_account(rng: random.Random) -> str:
    return "622848" + f"{rng.randrange(10**13):013d}"


def member_row(county_id: int, coop_id: int, *, name: str, member_type: str, number: str,
               joined_on: date, phone_no: str | None, bank: str | None,
               account: str | None, now) -> dict:
    """A member row ready for a bulk INSERT (numbers encrypted, masks precomputed)."""
    return {"county_id": county_id, "cooperative_id": coop_id, "name": name,
            "member_type": member_type, "phone": phone_no, "joined_on": joined_on,
            "status": "active", "bank_name": bank, "created_at": now,
            "collective_of": coop_id if member_type == "collective" else None,
            **people.id_card_columns(number), **people.bank_account_columns(account)}


# --- the demo county ------------------------------------------------------------------------

@dataclass
class Demo:
    rng: random.Random
    county: County | None = None
    towns: list[Town] = field(default_factory=list)
    villages: list[Village] = field(default_factory=list)
    zone: Zone | None = None
    coops: list[Cooperative] = field(default_factory=list)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (who, phone, password)
    last_year: int = 0
    plan_id: int | None = None
    program_id: int | None = None
    application_id: int | None = None


DEMO_TOWNS = {
    "浮岗镇": ("刘庄村", "张楼村", "王集村", "马庄村"),
    "黄岗镇": ("李堂村", "孙庄村", "陈楼村"),
    "郭村镇": ("郭村", "朱楼村"),
}


def demo_places(session: Session, demo: Demo) -> None:
    name, code = DEMO_COUNTY
    demo.county = County(name=name, code=code)
    session.add(demo.county)
    session.flush()
    for t, (town_name, villages) in enumerate(DEMO_TOWNS.items(), start=1):
        town_code = f"{code}{100 + t:03d}"
        town = Town(county_id=demo.county.id, name=town_name, code=town_code)
        session.add(town)
        session.flush()
        demo.towns.append(town)
        for v, village_name in enumerate(villages, start=1):
            demo.villages.append(Village(
                county_id=demo.county.id, town_id=town.id, name=village_name,
                code=f"{town_code}{200 + v:03d}",
                party_secretary_name=chinese_name(demo.rng)))
    session.add_all(demo.villages)
    session.flush()
    _secretary_terms(session, demo.villages)
    first_town = demo.villages[:3]
    demo.zone = Zone(county_id=demo.county.id, town_id=demo.towns[0].id, name="浮岗镇东部片区",
                     secretary_name=first_town[0].party_secretary_name)
    session.add(demo.zone)
    session.flush()
    session.add_all(ZoneVillage(zone_id=demo.zone.id, village_id=v.id) for v in first_town)


def _secretary_terms(session: Session, villages: list[Village]) -> None:
    """Each village's secretary as a dated term (CONTRACT §10): in office since 2020."""
    session.add_all(VillageSecretary(county_id=v.county_id, village_id=v.id,
                                     name=v.party_secretary_name, start_on=date(2020, 1, 1))
                    for v in villages if v.party_secretary_name)
    session.flush()


DEMO_COOPS = (
    # (village index, name, industry, method, land rate fen/mu, in zone)
    (0, "单县浮岗镇刘庄村富民种植专业合作社", "粮食种植", "statutory", 800_000, True),
    (4, "单县黄岗镇李堂村果蔬专业合作社", "果蔬种植", "by_shares", 600_000, False),
)


def demo_cooperatives(session: Session, demo: Demo) -> None:
    region = demo.county.code
    for n, (vi, name, industry, method, land_rate, in_zone) in enumerate(DEMO_COOPS, start=1):
        village = demo.villages[vi]
        demo.coops.append(Cooperative(
            county_id=village.county_id, town_id=village.town_id, village_id=village.id,
            zone_id=demo.zone.id if in_zone else None, name=name,
            credit_code=credit_code("93", region, 2100 + n), founded_on=date(2019, 3, 15 + n),
            industry=industry, status="active", distribution_method=method,
            land_rate_fen_per_mu=land_rate, labour_ticket_rate_fen=200_000,
            single_member_cap_rate=Decimal("0.20"), collective_cap_applies=False))
    session.add_all(demo.coops)
    session.flush()


def demo_members(session: Session, demo: Demo) -> None:
    """Twelve farmers and the village collective in each cooperative; one enterprise in
    the second (≤ 20 members may include one)."""
    now, rng, region = utcnow(), demo.rng, demo.county.code
    rows = []
    for c, coop in enumerate(demo.coops):
        village = session.get(Village, coop.village_id)
        surname = village.name[0]
        for i in range(12):
            name = (surname if i % 3 else rng.choice(SURNAMES)) + "".join(
                rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
            born = date(1955, 1, 1) + timedelta(days=rng.randrange(365 * 40))
            rows.append(member_row(
                coop.county_id, coop.id, name=name, member_type="farmer",
                number=id_card(region, born, 100 * c + i, female=i % 2 == 1),
                joined_on=coop.founded_on, phone_no=phone(rng), bank=rng.choice(BANKS),
                account=bank_account(rng), now=now))
        rows.append(member_row(
            coop.county_id, coop.id, name=f"单县{village.name}股份经济合作社", member_type="collective",
            number=credit_code("N2", region, 3100 + c), joined_on=coop.founded_on,
            phone_no=None, bank=BANKS[1], account=bank_account(rng), now=now))
        if c == 1:
            rows.append(member_row(
                coop.county_id, coop.id, name="单县鲁西南农业发展有限公司", member_type="enterprise",
                number=credit_code("91", region, 4100 + c), joined_on=coop.founded_on,
                phone_no=phone(rng), bank=BANKS[3], account=bank_account(rng), now=now))
    session.execute(insert(Member), rows)


def demo_officers(session: Session, demo: Demo) -> None:
    """Each board led by the village party secretary (书记兼理事长); one professional manager."""
    rng, region = demo.rng, demo.county.code
    seats = (("chair", True), ("director", True), ("director", False),
             ("supervisor_chair", True), ("supervisor", False), ("accountant", False))
    for c, coop in enumerate(demo.coops):
        village = session.get(Village, coop.village_id)
        for s, (role, committee) in enumerate(seats):
            born = date(1965, 1, 1) + timedelta(days=rng.randrange(365 * 20))
            name = village.party_secretary_name if role == "chair" else chinese_name(rng)
            session.add(Officer(
                county_id=coop.county_id, cooperative_id=coop.id, role=role,
                village_committee_member=committee, start_on=date(2021, 1, 1),
                phone=phone(rng), name=name,
                **people.id_card_columns(id_card(region, born, 500 + 10 * c + s))))
    first = demo.coops[0]
    session.add(ProfessionalManager(
        county_id=first.county_id, cooperative_id=first.id, name="赵晓东",
        contract_start=date(2023, 1, 1), contract_end=date(2025, 12, 31),
        base_pay_fen_per_year=6_000_000, bonus_rate=Decimal("0.05"), phone=phone(rng),
        **people.id_card_columns(id_card(region, date(1990, 8, 8), 777))))


def demo_users(session: Session, demo: Demo) -> None:
    """County users and one manager per cooperative, all with the demo password."""
    from auth.models import RoleAssignment, User
    from auth.passwords import hash_password

    password_hash = hash_password(DEMO_PASSWORD)
    county = demo.county
    specs = [("县级管理员（组织部）", "13800000001", [("county_admin", county.id, "")]),
             ("县财政", "13800000002", [("county_finance", county.id, "")]),
             ("组织部评审", "13800000003", [("county_reviewer", county.id, "organization")]),
             ("财政局评审", "13800000004", [("county_reviewer", county.id, "finance")]),
             ("农业农村局评审", "13800000005", [("county_reviewer", county.id, "agriculture")])]
    for n, coop in enumerate(demo.coops, start=1):
        specs.append((f"{coop.name[:12]}…负责人", f"138000000{10 + n}",
                      [("coop_manager", coop.id, "")]))
    for name, phone_no, roles in specs:
        user = User(phone=phone_no, name=name, password_hash=password_hash)
        for role, scope_id, department in roles:
            scope_type = "cooperative" if role == "coop_manager" else "county"
            user.roles.append(RoleAssignment(role=role, scope_type=scope_type,
                                             scope_id=scope_id, department=department))
        session.add(user)
        label = ", ".join(r if not d else f"{r}:{d}" for r, _, d in roles)
        demo.logins.append((label, phone_no, DEMO_PASSWORD))


def _user(session: Session, phone_no: str):
    from auth.models import User
    return session.execute(select(User).where(User.phone == phone_no)).scalar_one()


def demo_second_finance_user(session: Session, demo: Demo) -> None:
    """A second county_finance user: subsidies are approved by one and disbursed by the
    other (four eyes), so the journey can be walked with the demo's own logins."""
    from auth.models import RoleAssignment, User
    from auth.passwords import hash_password
    user = User(phone="13800000006", name="县财政（复核）",
                password_hash=hash_password(DEMO_PASSWORD))
    user.roles.append(RoleAssignment(role="county_finance", scope_type="county",
                                     scope_id=demo.county.id, department=""))
    session.add(user)
    demo.logins.append(("county_finance (second pair of eyes)", "13800000006", DEMO_PASSWORD))


def demo_bank_accounts(session: Session, demo: Demo) -> None:
    """Bank accounts for whoever the county pays: each cooperative (subsidies), each
    village secretary in office, officer and professional manager (reward shares)."""
    payees = [*demo.coops,
              *session.execute(select(VillageSecretary).where(
                  VillageSecretary.county_id == demo.county.id)).scalars(),
              *session.execute(select(Officer).where(
                  Officer.county_id == demo.county.id)).scalars(),
              *session.execute(select(ProfessionalManager).where(
                  ProfessionalManager.county_id == demo.county.id)).scalars()]
    for payee in payees:
        payee.bank_name = BANKS[0]
        for column, value in people.bank_account_columns(bank_account(demo.rng)).items():
            setattr(payee, column, value)
        if isinstance(payee, VillageSecretary):
            payee.phone = phone(demo.rng)


def demo_capital(session: Session, demo: Demo) -> None:
    """Each cooperative's opening register (coop/shares/opening.py), dated its founding:
    the village collective's assets 30,000 yuan, each farmer 5,000–8,000 yuan in cash,
    two farmers' land by area, the enterprise 15,000 yuan; the cap holds on the result."""
    from coop.shares.opening import Row, write_opening
    manager = _user(session, "13800000011")
    for coop in demo.coops:
        members = session.execute(select(Member).where(Member.cooperative_id == coop.id)
                                  .order_by(Member.id)).scalars().all()
        rows, farmers = [], 0
        for member in members:
            if member.member_type == "collective":
                kind, fen, area = "collective_asset", 3_000_000, None
            elif member.member_type == "enterprise":
                kind, fen, area = "cash", 1_500_000, None
            elif farmers in (2, 7):
                area = Decimal("1.50")
                kind, fen = "land", int(area * coop.land_rate_fen_per_mu)
            else:
                kind, fen, area = "cash", 500_000 + 100_000 * (farmers % 4), None
            farmers += member.member_type == "farmer"
            rows.append(Row(len(rows) + 1, member.id, kind, fen, area, None, coop.founded_on,
                            "期初股权登记（演示）"))
        write_opening(session, manager, coop, rows)


def demo_last_year(session: Session, demo: Demo) -> None:
    """Last year's accounts of both cooperatives and the first one's trades with its
    farmers, so a plan can be computed at once."""
    import coop.clock as clock
    from coop.distribution.services import put_account
    from coop.distribution.trades import import_trades
    year = clock.today().year - 1
    demo.last_year = year
    manager = _user(session, "13800000011")
    for n, coop in enumerate(demo.coops):
        put_account(session, manager, coop, year, {
            "revenue_fen": 186_000_000 + 40_000_000 * n, "cost_fen": 121_500_000 + 30_000_000 * n,
            "prior_loss_fen": 0, "wages_paid_fen": 8_600_000, "labour_days": 1_240,
            "fiscal_subsidy_fen": 5_000_000 if n == 0 else 0})
    coop = demo.coops[0]
    farmers = session.execute(select(Member.id).where(
        Member.cooperative_id == coop.id, Member.member_type == "farmer")
        .order_by(Member.id)).scalars().all()
    import_trades(session, manager, coop, year, [
        (str(i + 1), {"member_id": member_id, "amount_fen": 1_200_000 + 350_000 * (i % 5),
                      "occurred_on": date(year, 6 + i % 5, 10 + i), "note": "小麦收购"})
        for i, member_id in enumerate(farmers)])


def demo_plan_past_notice(session: Session, demo: Demo) -> None:
    """The first cooperative's plan for last year: computed, adopted by the member assembly
    and published. Its seven-day notice is dated to have ended yesterday (the timestamps
    are set back, and that is audited), so the manager can approve it at once."""
    from datetime import datetime, time, timezone
    import coop.clock as clock
    from coop.distribution import governance
    from coop.distribution.services import create_plan
    manager, coop, year = _user(session, "13800000011"), demo.coops[0], demo.last_year
    plan = create_plan(session, manager, coop, year, Decimal("0.10"), Decimal("0.60"))
    governance.submit(session, manager, plan)
    held_on = clock.today() - timedelta(days=9)
    governance.record_assembly(session, manager, plan, {
        "held_on": held_on, "basic_votes_total": 13, "extra_votes_total": 2,
        "votes_for": 12, "votes_against": 2, "abstentions": 1})
    governance.publish(session, manager, plan, notice_days=7, min_days=7)
    starts = datetime.combine(held_on + timedelta(days=1), time(9), clock.CHINA)
    plan.notice_starts_at = starts.astimezone(timezone.utc)
    plan.notice_ends_at = plan.notice_starts_at + timedelta(days=7)
    session.flush()
    audit.record(session, None, "seed.backdate_notice", "distribution", plan.id,
                 after={"notice_starts_at": plan.notice_starts_at,
                        "notice_ends_at": plan.notice_ends_at})
    demo.plan_id = plan.id


def demo_collective_income(session: Session, demo: Demo) -> None:
    """Every village's collective income for the year before last, last year and this
    year, growing, so reward rounds and the dashboard have an increase to show."""
    import coop.clock as clock
    from coop.county.income import set_entered_income
    admin, this_year = _user(session, "13800000001"), clock.today().year
    for v, village in enumerate(demo.villages):
        base = 6_000_000 + 2_500_000 * v
        for step, year in enumerate((this_year - 2, this_year - 1, this_year)):
            set_entered_income(session, admin, village, year, base + step * (1_500_000 + 500_000 * v))


def demo_program(session: Session, demo: Demo) -> None:
    """An open program this year and next (budget 1,000,000 yuan), and the first
    cooperative's application to it, waiting for the county's finance users."""
    import coop.clock as clock
    from coop.county.programs import create_program
    from coop.county.subsidies import submit_application
    admin, this_year = _user(session, "13800000001"), clock.today().year
    program = create_program(session, admin, demo.county, "村党组织领办合作社示范奖补资金",
                             this_year, 100_000_000, end_year=this_year + 1,
                             per_recipient_cap_fen=20_000_000)
    application = submit_application(session, _user(session, "13800000011"), demo.coops[0],
                                     program.id, 5_000_000, "冷库建设补助（演示）")
    demo.program_id, demo.application_id = program.id, application.id


DEMO_STEPS = [demo_places, demo_cooperatives, demo_members, demo_officers, demo_users,
              demo_second_finance_user, demo_bank_accounts, demo_capital, demo_last_year,
              demo_plan_past_notice, demo_collective_income, demo_program]


def seed_demo(session: Session, seed: int = 371722) -> Demo:
    """Build the demo county with every step in DEMO_STEPS (the caller commits)."""
    demo = Demo(rng=random.Random(seed))
    for step in DEMO_STEPS:
        step(session, demo)
        session.flush()
    audit.record(session, None, "seed.demo", "county", demo.county.id,
                 after={"cooperatives": len(demo.coops)})
    return demo


# --- a county at scale (benchmarks) -----------------------------------------------------

def _free_county_code(session: Session) -> str:
    taken = set(session.execute(select(County.code)).scalars())
    for n in range(1, 1000):
        code = f"379{n:03d}"
        if code not in taken:
            return code
    raise click.ClickException("no free benchmark county code (379001–379999)")


def benchmark_member_rows(county_id: int, coop_id: int, code: str, members: int,
                          first_serial: int, rng: random.Random) -> list[dict]:
    """The members of one benchmark cooperative: the village collective, then farmers."""
    now, joined, start, rows = utcnow(), date(2020, 1, 1), date(1950, 1, 1), []
    for serial in range(first_serial + 1, first_serial + members + 1):
        if serial == first_serial + 1:
            number, kind, name = credit_code("N2", code, serial), "collective", "村集体"
        else:
            # (birth day, sequence) pairs never repeat: numbers are unique county-wide.
            born = start + timedelta(days=serial % 18000)
            number, kind = id_card(code, born, serial // 18000), "farmer"
            name = chinese_name(rng)
        rows.append(member_row(county_id, coop_id, name=name, member_type=kind, number=number,
                               joined_on=joined, phone_no=phone(rng),
                               bank=BANKS[serial % len(BANKS)], account=bank_account(rng),
                               now=now))
    return rows


def seed_county(session: Session, coops: int, members_per_coop: int, *,
                code: str | None = None, seed: int = 1, chunk: int = 5000) -> County:
    """A county with `coops` cooperatives of `members_per_coop` members each (one of them
    the village collective), inserted in bulk (the caller commits)."""
    rng = random.Random(seed)
    code = code or _free_county_code(session)
    county = County(name=f"压测县{code}", code=code)
    session.add(county)
    session.flush()
    towns = [Town(county_id=county.id, name=f"第{t + 1}镇", code=f"{code}{t + 1:03d}")
             for t in range((coops + 9) // 10)]
    session.add_all(towns)
    session.flush()
    villages = [Village(county_id=county.id, town_id=towns[i // 10].id, name=f"第{i + 1}村",
                        code=f"{towns[i // 10].code}{i % 10 + 1:03d}",
                        party_secretary_name=chinese_name(rng)) for i in range(coops)]
    session.add_all(villages)
    session.flush()
    _secretary_terms(session, villages)
    coop_rows = [Cooperative(
        county_id=county.id, town_id=v.town_id, village_id=v.id, name=f"{v.name}股份经济专业合作社",
        credit_code=credit_code("93", code, i + 1), founded_on=date(2020, 1, 1), industry="种植",
        status="active", distribution_method="statutory", land_rate_fen_per_mu=800_000,
        labour_ticket_rate_fen=200_000, single_member_cap_rate=Decimal("0.20"),
        collective_cap_applies=False) for i, v in enumerate(villages)]
    session.add_all(coop_rows)
    session.flush()
    rows: list[dict] = []
    for n, coop in enumerate(coop_rows):
        rows += benchmark_member_rows(county.id, coop.id, code, members_per_coop,
                                      n * members_per_coop, rng)
        if len(rows) >= chunk:
            session.connection().execute(Member.__table__.insert(), rows)
            rows = []
    if rows:
        session.connection().execute(Member.__table__.insert(), rows)
    audit.record(session, None, "seed.county", "county", county.id,
                 after={"cooperatives": coops, "members_per_cooperative": members_per_coop})
    session.flush()
    return county


# --- CLI --------------------------------------------------------------------------------------

@cli.cli.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing if any county exists already.")
@with_appcontext
def demo_command(if_empty: bool):
    """Load the demo county (单县 371722) with two cooperatives and demo users."""
    if current_app.config["COOP_ENV"] == "production":
        raise click.ClickException(
            "refusing to load demo users with a known password in production")
    session = db.session
    if session.execute(select(County.id).limit(1)).first() is not None:
        if if_empty:
            click.echo("a county exists already: nothing seeded")
            return
    if session.execute(select(County.id).where(County.code == DEMO_COUNTY[1])).first():
        raise click.ClickException(f"county {DEMO_COUNTY[1]} exists already")
    with unit_of_work(session):
        demo = seed_demo(session)
    click.echo(f"seeded {demo.county.name} ({demo.county.code}): county id {demo.county.id}, "
               f"{len(demo.towns)} towns, {len(demo.villages)} villages, "
               f"{len(demo.coops)} cooperatives (ids {', '.join(str(c.id) for c in demo.coops)})")
    click.echo("demo logins (POST /api/v1/auth/login {phone, password}):")
    for who, phone_no, password in demo.logins:
        click.echo(f"  {phone_no}  {password}  {who}")


@cli.cli.command("county")
@click.option("--coops", type=click.IntRange(1, 999), default=151, show_default=True)
@click.option("--members", type=click.IntRange(1, 100_000), default=500, show_default=True)
@click.option("--code", default=None, help="6-digit county code (default: a free 379xxx).")
@with_appcontext
def county_command(coops: int, members: int, code: str | None):
    """Create a benchmark county: N cooperatives × M members, bulk-inserted."""
    import time
    if code is not None and not is_valid_county_code(code):
        raise click.BadParameter("须为 6 位数字", param_hint="--code")
    started = time.perf_counter()
    with unit_of_work():
        county = seed_county(db.session, coops, members, code=code)
    click.echo(f"seeded county {county.code} (id {county.id}): {coops} cooperatives × "
               f"{members} members in {time.perf_counter() - started:.1f} s", file=sys.stdout)
