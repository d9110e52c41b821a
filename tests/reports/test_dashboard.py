"""The county dashboard: each figure against hand-counted data, and a constant query count."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

import coop.clock as clock
from coop import crypto
from coop.county.models import CollectiveIncomeItem
from coop.distribution.models import AnnualAccount
from coop.registry.models import CooperativeStatusChange, Officer
from coop.reports.dashboard import dashboard
from tests.factories import valid_id_card
from tests.reports.builders import pay, reverse, settle
from tests.reports.conftest import counting_statements

YEAR = 2024
TODAY = date(2026, 3, 1)
URL = "/api/v1/reports/dashboard"


def _income(session, village, year, fen, source="entered", source_id=0):
    session.add(CollectiveIncomeItem(county_id=village.county_id, village_id=village.id,
                                     year=year, source=source, source_id=source_id,
                                     amount_fen=fen))


def _officer(session, coop, role, committee, person, start=date(2020, 1, 1), end=None):
    session.add(Officer(county_id=coop.county_id, cooperative_id=coop.id, role=role,
                        village_committee_member=committee, start_on=start, end_on=end,
                        name=f"干部{person}", id_card_enc=crypto.encrypt(person),
                        id_card_hash=crypto.blind_index(person),
                        id_card_masked=crypto.mask_id_card(person)))


def _status_change(session, coop, to, at):
    """A change recorded at `at` that took effect that day (China's): the year it counts
    in is the effective date's."""
    session.add(CooperativeStatusChange(county_id=coop.county_id, cooperative_id=coop.id,
                                        from_status="active", to_status=to, reason="测试",
                                        changed_at=at,
                                        effective_on=at.astimezone(clock.CHINA).date()))


class County:
    """8 villages in two towns, two zones of three, seven cooperatives, hand-made figures."""

    def __init__(self, db, make):
        s = db.session
        self.county = make.county(name="单县")
        t1, t2 = make.town(self.county), make.town(self.county)
        v = [make.village(t1) for _ in range(4)] + [make.village(t2) for _ in range(4)]
        self.villages = v
        self.zones = [make.zone(v[0:3], name="东片"), make.zone(v[4:7], name="西片")]
        statuses = ["active"] * 3 + ["standardized"] * 2 + ["shell", "closed"]
        self.coops = [make.cooperative(v[i], status=st) for i, st in enumerate(statuses)]
        # income: this year V1 = 10万 exactly, V2 = 50万 entered; V2's first-wave row of a
        # distribution counts for nothing (issue 15: income is what the county enters)
        _income(s, v[0], YEAR, 10_000_000)
        _income(s, v[1], YEAR, 50_000_000)
        _income(s, v[1], YEAR, 1, source="distribution", source_id=9)
        _income(s, v[2], YEAR, 9_999_999)
        _income(s, v[4], YEAR, 60_000_000)
        _income(s, v[5], YEAR, 0)
        _income(s, v[0], YEAR - 1, 5_000_000)
        _income(s, v[1], YEAR - 1, 20_000_000)
        _income(s, v[4], YEAR - 1, 50_000_000)
        _income(s, v[2], YEAR - 2, 80_000_000)
        # wages (annual accounts)
        for coop, year, wages, days in ((self.coops[0], YEAR, 12_740_000_00, 137_000),
                                        (self.coops[3], YEAR, 5, 7),
                                        (self.coops[1], YEAR - 1, 999, 999)):
            s.add(AnnualAccount(county_id=coop.county_id, cooperative_id=coop.id, year=year,
                                wages_paid_fen=wages, labour_days=days))
        # officers: coop 0 active, coop 3 standardized, coop 6 closed
        a, b, closed = self.coops[0], self.coops[3], self.coops[6]
        p = [valid_id_card() for _ in range(8)]
        _officer(s, a, "chair", True, p[1])
        _officer(s, a, "supervisor_chair", True, p[1])        # same person: counted once
        _officer(s, a, "director", False, p[2])
        _officer(s, a, "supervisor", True, p[3])
        _officer(s, a, "accountant", True, p[4])               # not a board seat
        _officer(s, a, "director", True, p[5], end=date(YEAR, 3, 1))   # left before 31 Dec
        _officer(s, b, "director", True, p[6], start=date(YEAR + 1, 1, 1))  # not yet
        _officer(s, closed, "chair", True, p[7])               # cooperative closed
        # lifecycle: two standardized during the year (one just after midnight Beijing time)
        _status_change(s, self.coops[3], "standardized", datetime(YEAR, 5, 1, tzinfo=timezone.utc))
        _status_change(s, self.coops[4], "standardized",
                       datetime(YEAR - 1, 12, 31, 17, 0, tzinfo=timezone.utc))
        _status_change(s, self.coops[5], "shell", datetime(YEAR, 6, 1, tzinfo=timezone.utc))
        _status_change(s, self.coops[1], "standardized",
                       datetime(YEAR - 1, 12, 31, 15, 59, tzinfo=timezone.utc))
        s.commit()
        m = [make.member(self.coops[0]) for _ in range(2)]
        batch = pay(s, self.county.id, self.coops[0], "distribution", 1, YEAR,
                    [(m[0], 100), (m[1], 200)])
        paid, _ = settle(s, batch, ["paid", None])
        reverse(s, paid)                                         # −100, status reversed
        more = pay(s, self.county.id, self.coops[3], "distribution", 4, YEAR,
                   [(m[0], 700), (m[1], 40)])
        settle(s, more, ["paid", "failed"])
        pay(s, self.county.id, self.coops[1], "reward", 2, YEAR, [(m[0], 300)])
        pay(s, self.county.id, self.coops[0], "distribution", 3, YEAR - 1, [(m[1], 5_000)])
        # a neighbouring county's village and cooperative: must not count
        other = make.county(name="成武县")
        ov = make.village(make.town(other))
        _income(s, ov, YEAR, 90_000_000)
        s.commit()
        self.other = other


@pytest.fixture
def figures(db, make):
    return County(db, make)


def _ratio(value: Fraction) -> str:
    return str((Decimal(value.numerator) / Decimal(value.denominator))
               .quantize(Decimal("0.0001"), ROUND_HALF_UP))


def test_cooperative_counts_by_status_and_standardized_during_the_year(db, figures):
    out = dashboard(db.session, figures.county, YEAR, TODAY)["cooperatives"]
    assert out["by_status"] == {"active": 3, "standardized": 2, "shell": 1, "closed": 1,
                                "merged": 0, "transformed": 0}
    assert out["total"] == 7 and out["standardized"] == 2
    assert out["standardized_during_year"] == 2


def test_villages_reaching_100k_and_500k_this_year_and_last(db, figures):
    out = dashboard(db.session, figures.county, YEAR, TODAY)["villages_by_collective_income"]
    assert out == [{"threshold_fen": 10_000_000, "this_year": 3, "last_year": 2},
                   {"threshold_fen": 50_000_000, "this_year": 2, "last_year": 1}]


def test_thresholds_are_a_setting(db, figures):
    out = dashboard(db.session, figures.county, YEAR, TODAY, thresholds_fen=(1,))
    assert out["villages_by_collective_income"] == [
        {"threshold_fen": 1, "this_year": 4, "last_year": 3}]


def test_wages_and_labour_days_from_the_year_accounts(db, figures):
    out = dashboard(db.session, figures.county, YEAR, TODAY)["wages"]
    assert out == {"wages_paid_fen": 12_740_000_00 + 5, "labour_days": 137_007,
                   "cooperatives_reporting": 2}


def test_payouts_by_source(db, figures):
    out = dashboard(db.session, figures.county, YEAR, TODAY)["payouts_by_source"]
    assert out == {
        "distribution": {"line_count": 5, "issued_fen": 300 + 700 + 40, "paid_fen": 100 - 100 + 700,
                         "pending_fen": 200, "failed_fen": 40},
        "reward": {"line_count": 1, "issued_fen": 300, "paid_fen": 0, "pending_fen": 300,
                   "failed_fen": 0},
        "subsidy": {"line_count": 0, "issued_fen": 0, "paid_fen": 0, "pending_fen": 0,
                    "failed_fen": 0}}


def test_cross_appointment_counts_people_in_office_on_board_and_supervisory_board(db, figures):
    out = dashboard(db.session, figures.county, YEAR, TODAY)["cross_appointment"]
    assert out["as_of"] == date(YEAR, 12, 31)
    assert (out["village_committee_officers"], out["board_and_supervisory_officers"]) == (2, 3)
    assert out["ratio"] == "0.6667"


def test_cross_appointment_ratio_is_null_without_officers(db, make):
    county = make.county()
    out = dashboard(db.session, county, YEAR, TODAY)["cross_appointment"]
    assert out["ratio"] is None and out["board_and_supervisory_officers"] == 0


def test_zone_income_against_the_county_average_per_village(db, figures):
    out = dashboard(db.session, figures.county, YEAR, TODAY)["zone_income"]
    county_total = 10_000_000 + 50_000_000 + 9_999_999 + 60_000_000
    assert out["county_villages"] == 8 and out["county_income_fen"] == county_total
    assert out["county_average_fen"] == 16_250_000          # 16,249,999.875 rounded
    east, west = out["zones"]
    assert (east["name"], east["villages"], east["income_fen"]) == ("东片", 3, 69_999_999)
    assert east["average_fen"] == 23_333_333
    assert east["ratio_to_county"] == _ratio(Fraction(69_999_999, 3) / Fraction(county_total, 8))
    assert (west["villages"], west["income_fen"], west["average_fen"]) == (3, 60_000_000,
                                                                           20_000_000)
    assert west["ratio_to_county"] == _ratio(Fraction(60_000_000, 3) / Fraction(county_total, 8))


def _grow(db, make, county, n):
    """n more cooperatives, each with a village, officers, income, accounts and payouts."""
    s = db.session
    town = make.town(county)
    for i in range(n):
        village = make.village(town)
        coop = make.cooperative(village, status=("active", "standardized")[i % 2])
        _income(s, village, YEAR, 1_000_000 * i)
        s.add(AnnualAccount(county_id=county.id, cooperative_id=coop.id, year=YEAR,
                            wages_paid_fen=100 * i, labour_days=i))
        _officer(s, coop, "chair", bool(i % 2), valid_id_card())
        s.commit()
        pay(s, county.id, coop, "distribution", 10_000 + coop.id, YEAR,
            [(make.member(coop), 100 + i)])
    make.zone([make.village(town) for _ in range(3)])


def test_query_count_does_not_grow_with_the_number_of_cooperatives(db, make, figures):
    db.session.expire_all()
    with counting_statements(db.engine) as few:
        dashboard(db.session, figures.county, YEAR, TODAY)
    db.session.expire_all()
    _grow(db, make, figures.county, 15)
    with counting_statements(db.engine) as many:
        out = dashboard(db.session, figures.county, YEAR, TODAY)
    assert out["cooperatives"]["total"] == 7 + 15
    # one statement per figure (7), 11 for the published figures (coop/reports/figures.py),
    # plus reloading the expired county row
    assert len(many) == len(few) == 19


def test_dashboard_over_http_for_county_roles_of_that_county_only(client, make, figures):
    query = {"county_id": figures.county.id, "year": YEAR}
    _, reviewer = make.login("county_reviewer", figures.county, department="finance")
    resp = client.get(URL, query_string=query, headers=reviewer)
    assert resp.status_code == 200, resp.json
    assert resp.json["villages_by_collective_income"][0]["this_year"] == 3
    assert resp.json["cross_appointment"]["ratio"] == "0.6667"
    _, outsider = make.login("county_admin", figures.other)
    assert client.get(URL, query_string=query, headers=outsider).status_code == 404
    _, manager = make.login("coop_manager", figures.coops[0])
    assert client.get(URL, query_string=query, headers=manager).status_code == 403
    assert client.get(URL, query_string={"county_id": figures.county.id},
                      headers=reviewer).status_code == 422
    assert client.get(URL, query_string=query).status_code == 401
