"""A county whose data is Yuncheng's published figures in miniature (about a tenth), and
the helpers the city tests build with. Rows are written directly, as the services leave
them; every figure is placed so that exactly the published count (scaled) qualifies and
a near miss beside it does not."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from coop.county.models import CollectiveIncomeItem
from coop.distribution.models import AnnualAccount, DistributionLine, DistributionPlan
from coop.places.models import VillageSecretary
from coop.registry.models import CooperativeStatusChange, Officer
from tests.county.conftest import person

YEAR, BASELINE = 2024, 2021
WAN = 10_000 * 100          # 万元 in fen

# The seeds' county figures (Yuncheng) and the miniature this county holds.
MINIATURE = {
    "standardized": 15,                  # 151
    "shells_cleared": {"closed": 10, "merged": 8, "transformed": 5, "total": 23},  # 228
    "secretary_chair_ratio": "0.9762",   # 97.6 %: 41 of 42 chairs
    "cross_appointment_ratio": "0.8950",  # 89.5 %: 179 of 200 board and supervisors
    "professional_managers": 16,         # 155
    "commissioners": 9,                  # 85
    "cooperatives_with_commissioner": 15,  # 151
    "at_least_10_wan": (4, 13),          # 35 → 130
    "at_least_50_wan": (1, 3),           # 8 → 32
    "collective_income_increase_fen": 15 * 24_000 * 100,   # 3.624 M over 151 villages
    "collective_income_increase_per_village_fen": 24_000 * 100,   # 24,000 per village
    "wages_paid_fen": 127_400_000,       # 12.74 M yuan
    "labour_person_times": 13_700,       # 137,000
}


@dataclass
class Mini:
    county: object
    running: list = field(default_factory=list)      # 42 cooperatives still running
    ended: list = field(default_factory=list)        # 23 shells cleared in YEAR
    dividends_fen: int = 0


def change(session, coop, frm, to, on, merged_into=None):
    session.add(CooperativeStatusChange(county_id=coop.county_id, cooperative_id=coop.id,
                                        from_status=frm, to_status=to, reason="整改",
                                        effective_on=on, merged_into_id=merged_into))
    coop.status = to


def officer(session, coop, name, role, crossed=True, id_card=None, start=date(2021, 1, 1),
            end=None):
    session.add(Officer(county_id=coop.county_id, cooperative_id=coop.id, role=role,
                        village_committee_member=crossed, start_on=start, end_on=end,
                        **person(name, id_card)))


def income(session, village, year, fen, source="entered", source_id=0):
    session.add(CollectiveIncomeItem(county_id=village.county_id, village_id=village.id,
                                     year=year, source=source, source_id=source_id,
                                     amount_fen=fen))


def secretary_of(session, village) -> VillageSecretary:
    from sqlalchemy import select
    return session.execute(select(VillageSecretary).where(
        VillageSecretary.village_id == village.id)).scalar_one()


def build_mini_yuncheng(make, session, county=None) -> Mini:
    from coop.places.models import Village
    county = county or make.county(name="郓城县（缩）")
    town = make.town(county, name="城关镇")
    mini = Mini(county)
    villages = []
    for n in range(65):
        coop = make.cooperative(make.village(town, name=f"村{n}", secretary=f"书记{n}"),
                                founded_on=date(2019, 5, 1))
        villages.append(session.get(Village, coop.village_id))
        (mini.running if n < 42 else mini.ended).append(coop)
    # Status history: 15 standardized in YEAR, one the year before; 23 shells (made shells
    # in 2023) cleared in YEAR; one shell closed the year before (not this year's).
    for coop in mini.running[:15]:
        change(session, coop, "active", "standardized", date(YEAR, 6, 30))
    change(session, mini.running[15], "active", "standardized", date(YEAR - 1, 12, 31))
    for n, coop in enumerate(mini.ended):
        change(session, coop, "active", "shell", date(YEAR - 1, 3, 1))
        to = "closed" if n < 10 else "merged" if n < 18 else "transformed"
        change(session, coop, "shell", to, date(YEAR, 1, 1) if n % 2 else date(YEAR, 12, 31),
               merged_into=mini.running[0].id if to == "merged" else None)
    old_shell = make.cooperative(make.village(town, secretary="旧书记"),
                                 founded_on=date(2019, 5, 1))
    change(session, old_shell, "active", "shell", date(YEAR - 2, 3, 1))
    change(session, old_shell, "shell", "closed", date(YEAR - 1, 11, 1))
    # Chairs: 41 of the 42 running cooperatives' chairs are the village secretary in
    # office — by name (no ID card on record), or by ID card where it is on record.
    for n, coop in enumerate(mini.running):
        village = villages[n]
        if n == 0:
            # Same name as the secretary, but the secretary's ID card says another person.
            secretary = secretary_of(session, village)
            other = person(secretary.name)
            secretary.id_card_hash = other["id_card_hash"]
            officer(session, coop, secretary.name, "chair")
        elif n < 5:
            card = person(f"书记{n}")
            secretary = secretary_of(session, village)
            secretary.id_card_hash = card["id_card_hash"]
            # The chair's ID card is the secretary's: the same person, whatever the name.
            session.add(Officer(county_id=coop.county_id, cooperative_id=coop.id, role="chair",
                                village_committee_member=True, start_on=date(2021, 1, 1),
                                name=f"同一人{n}", **{k: v for k, v in card.items()
                                                   if k != "name"}))
        else:
            officer(session, coop, f"书记{n}", "chair")
        if n == 6:
            # A chair who left before year end is not counted; his successor is.
            officer(session, coop, "前任理事长", "chair", end=date(YEAR, 3, 31),
                    start=date(2019, 5, 1))
    # Board and supervisory board: 42 chairs (all on the village committee) and 158 others,
    # 137 of them on it: 179 of 200 = 89.5 %.
    for n in range(158):
        coop = mini.running[n % 42]
        officer(session, coop, f"理事{n}", "director" if n % 3 else "supervisor",
                crossed=n < 137)
    # Not counted: a director who left in 2023, a chair of a cleared shell, an accountant.
    officer(session, mini.running[1], "离任理事", "director", end=date(YEAR - 1, 6, 30))
    officer(session, mini.ended[0], "书记42", "chair")
    officer(session, mini.running[2], "会计", "accountant", crossed=False)
    # 16 professional managers under contract at year end (one manages two cooperatives);
    # not counted: an expired contract, a manager of a cleared shell.
    from tests.county.conftest import add_professional_manager
    twice = person("两社经理")
    for n in range(15):
        add_professional_manager(session, mini.running[n], f"经理{n}", start=date(YEAR, 1, 1),
                                 end=date(YEAR + 2, 12, 31))
    from coop.registry.models import ProfessionalManager
    session.add(ProfessionalManager(county_id=county.id, cooperative_id=mini.running[16].id,
                                    contract_start=date(YEAR, 1, 1),
                                    contract_end=date(YEAR + 1, 12, 31),
                                    base_pay_fen_per_year=1, **twice))
    session.add(ProfessionalManager(county_id=county.id, cooperative_id=mini.running[17].id,
                                    contract_start=date(YEAR, 1, 1),
                                    contract_end=date(YEAR + 1, 12, 31),
                                    base_pay_fen_per_year=1, **twice))
    session.commit()
    add_professional_manager(session, mini.running[20], "过期经理", start=date(2020, 1, 1),
                             end=date(YEAR, 6, 30))
    add_professional_manager(session, mini.ended[1], "空壳社经理", start=date(YEAR, 1, 1),
                             end=date(YEAR + 1, 12, 31))
    # 9 commissioners paired with 15 cooperatives; one also paired with a cleared shell.
    for n in range(9):
        coops = mini.running[n * 15 // 9:(n + 1) * 15 // 9]
        make.user("commissioner", coops[0], name=f"委员{n}",
                  roles=[("commissioner", c) for c in coops[1:]]
                  + ([("commissioner", mini.ended[2])] if n == 0 else []))
    _collective_income(session, villages)
    # Annual accounts of YEAR: 12.74 M yuan of wages over 13,700 person-times, from ten
    # cooperatives; the year before does not count.
    for n in range(10):
        session.add(AnnualAccount(county_id=county.id, cooperative_id=mini.running[n].id,
                                  year=YEAR, wages_paid_fen=12_740_000, labour_days=1_370))
        session.add(AnnualAccount(county_id=county.id, cooperative_id=mini.running[n].id,
                                  year=YEAR - 1, wages_paid_fen=99_000, labour_days=7))
    mini.dividends_fen = _dividends(make, session, mini.running[0])
    session.commit()
    return mini


def _collective_income(session, villages):
    """YEAR: 20 villages have a figure — 3 at 60万, 10 at 12万, 7 at 5万 — and the first
    15 had a figure the year before 24,000 yuan lower; BASELINE: 1 at 55万, 3 at 11万."""
    amounts = [60 * WAN] * 3 + [12 * WAN] * 10 + [5 * WAN] * 7
    for n, fen in enumerate(amounts):
        income(session, villages[n], YEAR, fen)
        if n < 15:
            income(session, villages[n], YEAR - 1, fen - 24_000 * 100)
    for n, fen in enumerate([55 * WAN] + [11 * WAN] * 3 + [3 * WAN] * 6):
        income(session, villages[30 + n], BASELINE, fen)
    # The first wave's dividend rows never count as income.
    income(session, villages[16], YEAR, 90 * WAN, source="distribution", source_id=1)


def _dividends(make, session, coop) -> int:
    """A paid plan of YEAR with the collective's line (counted) and a farmer's (not); an
    approved plan's collective line (not paid: not counted)."""
    collective = make.member(coop, name="村集体", member_type="collective")
    farmer = make.member(coop, name="农户")
    for status, year in (("paid", YEAR), ("approved", YEAR - 1)):
        plan = DistributionPlan(county_id=coop.county_id, cooperative_id=coop.id, year=year,
                                method="statutory", reserve_rate=Decimal("0.10"),
                                status=status, basis_digest="0" * 64)
        session.add(plan)
        session.flush()
        session.add_all([
            DistributionLine(plan_id=plan.id, county_id=coop.county_id, cooperative_id=coop.id,
                             member_id=collective.id, is_collective=True, total_fen=345_600),
            DistributionLine(plan_id=plan.id, county_id=coop.county_id, cooperative_id=coop.id,
                             member_id=farmer.id, total_fen=1_000_000)])
    return 345_600
