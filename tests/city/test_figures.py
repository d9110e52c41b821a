"""The figures the county reports publish, from the data: a county holding Yuncheng's
numbers in miniature gives each exactly; a city sums its counties and recomputes ratios
from the sums (issue 19)."""
from __future__ import annotations

from datetime import date

import pytest

import coop.clock as clock
from coop.places.cities import City
from coop.reports.figures import county_figures
from tests.city.builders import BASELINE, MINIATURE, YEAR, build_mini_yuncheng, officer



@pytest.fixture
def today():
    """Any day after YEAR: the year's figures are taken on its 31 December."""
    assert clock.today() > date(YEAR + 1, 1, 1)
    return clock.today()


def _city(db, make, *counties):
    city = City(name="菏泽市", code="371700")
    db.session.add(city)
    db.session.flush()
    for county in counties:
        county.city_id = city.id
    db.session.commit()
    return city


def test_the_miniature_county_gives_each_published_figure_exactly(db, make, client, today):
    mini = build_mini_yuncheng(make, db.session)
    user, headers = make.login("county_reviewer", mini.county, department="organization")
    response = client.get("/api/v1/reports/dashboard", headers=headers, query_string={
        "county_id": mini.county.id, "year": YEAR, "baseline_year": BASELINE})
    assert response.status_code == 200, response.get_json()
    f = response.get_json()["figures"]
    assert f["as_of"] == f"{YEAR}-12-31" and f["baseline_year"] == BASELINE
    assert f["standardized"] == MINIATURE["standardized"]
    assert f["shells_cleared"] == MINIATURE["shells_cleared"]
    assert f["cooperatives_by_status"] == {"active": 26, "standardized": 16, "shell": 0,
                                           "closed": 11, "merged": 8, "transformed": 5}
    assert (f["secretary_chairs"], f["chaired_cooperatives"]) == (41, 42)
    assert f["secretary_chair_ratio"] == MINIATURE["secretary_chair_ratio"]
    assert (f["cross_appointed_officers"], f["board_and_supervisory_officers"]) == (179, 200)
    assert f["cross_appointment_ratio"] == MINIATURE["cross_appointment_ratio"]
    assert f["professional_managers"] == MINIATURE["professional_managers"]
    assert f["commissioners"] == MINIATURE["commissioners"]
    assert f["cooperatives_with_commissioner"] == MINIATURE["cooperatives_with_commissioner"]
    ten, fifty = f["villages_income_at_least"]
    assert (ten["threshold_fen"], fifty["threshold_fen"]) == (10_000_000, 50_000_000)
    assert (ten["baseline_year"], ten["this_year"]) == MINIATURE["at_least_10_wan"]
    assert (fifty["baseline_year"], fifty["this_year"]) == MINIATURE["at_least_50_wan"]
    assert f["collective_income_increase_fen"] == MINIATURE["collective_income_increase_fen"]
    assert (f["collective_income_increase_per_village_fen"]
            == MINIATURE["collective_income_increase_per_village_fen"])
    assert f["villages_compared"] == 15
    # The entered figures only: 3 × 60万 + 10 × 12万 + 7 × 5万 over 20 villages.
    assert (f["collective_income_fen"], f["villages_with_income"]) == (335 * 10**6, 20)
    assert f["collective_income_per_village_fen"] == 16_750_000
    assert f["wages_paid_fen"] == MINIATURE["wages_paid_fen"]
    assert f["labour_person_times"] == MINIATURE["labour_person_times"]
    assert f["dividends_paid_fen"] == mini.dividends_fen


def test_the_same_function_gives_the_api_figures(db, make, client, today):
    """The console and the xlsx report call county_figures: the API shows what it gives."""
    mini = build_mini_yuncheng(make, db.session)
    headers = make.login("county_admin", mini.county)[1]
    shown = client.get("/api/v1/reports/dashboard", headers=headers, query_string={
        "county_id": mini.county.id, "year": YEAR}).get_json()["figures"]
    direct = county_figures(db.session, mini.county.id, YEAR, clock.today())
    assert shown["baseline_year"] == YEAR - 1 == direct["baseline_year"]
    assert shown["standardized"] == direct["standardized"]
    assert shown["secretary_chair_ratio"] == direct["secretary_chair_ratio"]
    assert shown["villages_income_at_least"] == direct["villages_income_at_least"]


def test_a_past_year_reads_statuses_by_their_effective_dates(db, make, client, today):
    mini = build_mini_yuncheng(make, db.session)
    before = county_figures(db.session, mini.county.id, YEAR - 1, clock.today())
    # On 31 Dec of the year before: 23 shells not yet cleared, one standardized, one
    # old shell closed in that year.
    assert before["cooperatives_by_status"]["shell"] == 23
    assert before["cooperatives_by_status"]["standardized"] == 1
    assert before["standardized"] == 1
    assert before["shells_cleared"]["total"] == 1


def _chairs(session, coops, matching: int):
    for n, coop in enumerate(coops):
        from tests.city.builders import secretary_of
        from coop.places.models import Village
        village = session.get(Village, coop.village_id)
        name = secretary_of(session, village).name if n < matching else f"外人{n}"
        officer(session, coop, name, "chair")
    session.commit()


def test_a_city_sums_its_counties_and_recomputes_ratios(db, make, client, today):
    """3 of 4 chairs are secretaries in A, 1 of 1 in B: the city's ratio is 4/5 = 0.8000,
    not the mean of 0.75 and 1 (0.875)."""
    a, b = make.county(name="甲县", code="371721"), make.county(name="乙县", code="371722")
    coops_a = [make.cooperative(county=a) for _ in range(4)]
    coops_b = [make.cooperative(county=b)]
    _chairs(db.session, coops_a, 3)
    _chairs(db.session, coops_b, 1)
    city = _city(db, make, a, b)
    headers = make.login("city_viewer", city)[1]
    response = client.get("/api/v1/reports/dashboard", headers=headers,
                       query_string={"city_id": city.id, "year": YEAR})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    by_county = {c["name"]: c for c in body["counties"]}
    assert by_county["甲县"]["secretary_chair_ratio"] == "0.7500"
    assert by_county["乙县"]["secretary_chair_ratio"] == "1.0000"
    assert body["total"]["secretary_chair_ratio"] == "0.8000"
    assert body["total"]["chaired_cooperatives"] == 5
    assert body["total"]["cooperatives_total"] == 5


def test_a_city_of_the_miniature_and_another_county_adds_every_count(db, make, client, today):
    mini = build_mini_yuncheng(make, db.session)
    other = make.county(name="乙县")
    coop = make.cooperative(county=other, founded_on=date(2019, 1, 1))
    from tests.city.builders import change, income
    from coop.places.models import Village
    change(db.session, coop, "active", "standardized", date(YEAR, 5, 1))
    village = db.session.get(Village, coop.village_id)
    income(db.session, village, YEAR, 20 * 10**6)
    income(db.session, village, YEAR - 1, 10 * 10**6)
    db.session.commit()
    city = _city(db, make, mini.county, other)
    headers = make.login("city_viewer", city)[1]
    body = client.get("/api/v1/reports/dashboard", headers=headers,
                   query_string={"city_id": city.id, "year": YEAR}).get_json()
    total = body["total"]
    assert total["standardized"] == MINIATURE["standardized"] + 1
    assert total["collective_income_increase_fen"] == (
        MINIATURE["collective_income_increase_fen"] + 10 * 10**6)
    assert total["villages_compared"] == 16
    # (36,000,000 + 10,000,000) / 16 villages, not the mean of the two counties' averages.
    assert total["collective_income_increase_per_village_fen"] == 2_875_000
    assert total["villages_income_at_least"][0]["this_year"] == 14
    assert [c["county_id"] for c in body["counties"]] == sorted(
        [mini.county.id, other.id], key=lambda cid: {mini.county.id: mini.county.code,
                                                     other.id: other.code}[cid])


def test_the_county_xlsx_report_shows_the_dashboards_figures(db, make, client, today):
    """One function feeds both: the report's 年度数字 sheet reads as the dashboard does."""
    import io
    from decimal import Decimal

    import openpyxl
    mini = build_mini_yuncheng(make, db.session)
    headers = make.login("county_finance", mini.county)[1]
    shown = client.get("/api/v1/reports/dashboard", headers=headers, query_string={
        "county_id": mini.county.id, "year": YEAR}).get_json()["figures"]
    response = client.get("/api/v1/reports/payouts", headers=headers, query_string={
        "scope": "county", "id": mini.county.id, "year": YEAR, "format": "xlsx"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data()))["年度数字"]
    cells = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert cells["本年规范提升"] == shown["standardized"] == MINIATURE["standardized"]
    assert cells["本年空壳社清理（关停并转）"] == 23
    assert cells["村党组织书记任理事长比例"] == shown["secretary_chair_ratio"] == "0.9762"
    assert cells["交叉任职比例"] == "0.8950"
    assert Decimal(str(cells["村均增收（元）"])) == Decimal(24_000)
    assert Decimal(str(cells["支付农民工资（元）"])) * 100 == shown["wages_paid_fen"]
    assert cells["带动务工（人次）"] == shown["labour_person_times"] == 13_700
    assert cells[f"集体收入≥10万元的村（{YEAR}年）"] == 13
    assert cells[f"集体收入≥50万元的村（{YEAR - 1}年）"] == shown[
        "villages_income_at_least"][1]["baseline_year"]
