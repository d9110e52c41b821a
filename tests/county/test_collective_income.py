"""PUT/GET /villages/{id}/collective-income[/{year}]: exactly the entered figure, with the
collective's dividends shown beside it, never added (CONTRACT §10)."""
from sqlalchemy import select

from coop.audit import AuditEntry
from coop.county.income import income_for_year
from coop.county.models import CollectiveIncomeItem
from tests.county.conftest import problem_code


def url(village, year=2024):
    return f"/api/v1/villages/{village.id}/collective-income/{year}"


def test_finance_enters_income_and_a_second_put_replaces_it(client, world, db):
    _, headers = world.finance1
    first = client.put(url(world.village), json={"amount_fen": 100}, headers=headers)
    assert first.status_code == 200
    response = client.put(url(world.village), json={"amount_fen": 150_000_000}, headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["total_fen"] == 150_000_000
    assert [(i["source"], i["amount_fen"]) for i in body["items"]] == [("entered", 150_000_000)]
    assert income_for_year(db.session, world.village.id, 2024) == 150_000_000
    actions = db.session.execute(select(AuditEntry.action).where(
        AuditEntry.object_type == "village")).scalars().all()
    assert actions == ["collective_income.enter", "collective_income.enter"]


def test_income_is_the_entered_figure_and_a_first_wave_dividend_row_is_not_added(
        client, world, db):
    """Issue 15: 1,500,000 entered came back as 1,518,000 (a dividend added silently).
    Before this change the total here was 1,518,000 yuan."""
    _, headers = world.admin
    db.session.add(CollectiveIncomeItem(county_id=world.county.id, village_id=world.village.id,
                                        year=2024, source="distribution", source_id=77,
                                        amount_fen=1_800_000))
    db.session.commit()
    client.put(url(world.village), json={"amount_fen": 150_000_000}, headers=headers)
    body = client.get(url(world.village), headers=world.reviewers["finance"][1]).get_json()
    assert (body["amount_fen"], body["total_fen"]) == (150_000_000, 150_000_000)
    assert [(i["source"], i["amount_fen"]) for i in body["items"]] == [("entered", 150_000_000)]
    assert income_for_year(db.session, world.village.id, 2024) == 150_000_000
    # a year nobody entered has no figure at all (not zero)
    assert income_for_year(db.session, world.village.id, 2023) is None
    missing = client.get(url(world.village, 2023), headers=headers).get_json()
    assert missing["amount_fen"] is None


def test_the_years_list_shows_dividends_beside_the_income(client, db, make):
    from coop.places.models import County, Village
    from tests.distribution.builders import approved_plan, worked_example
    from tests.payouts.test_batches import pay
    coop, *_ = worked_example(make, db.session)
    village = db.session.get(Village, coop.village_id)
    county = db.session.get(County, coop.county_id)
    _, manager = make.login("coop_manager", coop)
    pay(client, manager, approved_plan(client, manager, coop)["id"])
    _, finance = make.login("county_finance", county)
    for year, amount in ((2024, 150_000_000), (2023, 120_000_000)):
        client.put(url(village, year), json={"amount_fen": amount}, headers=finance)
    body = client.get(f"/api/v1/villages/{village.id}/collective-income",
                      headers=finance).get_json()
    assert body == [
        {"year": 2024, "amount_fen": 150_000_000, "cooperative_dividends_fen": 15_230_118},
        {"year": 2023, "amount_fen": 120_000_000, "cooperative_dividends_fen": 0}]
    # the cooperative's manager reads his own village's income, not another village's
    assert client.get(f"/api/v1/villages/{village.id}/collective-income",
                      headers=manager).get_json() == body
    other = make.village(make.town(county))
    assert client.get(f"/api/v1/villages/{other.id}/collective-income",
                      headers=manager).status_code == 404


def test_reviewer_may_not_enter_income(client, world):
    response = client.put(url(world.village), json={"amount_fen": 1},
                          headers=world.reviewers["finance"][1])
    assert response.status_code == 403
    assert problem_code(response) == "FORBIDDEN"


def test_other_countys_staff_get_404_for_the_village(client, world):
    for method in (client.get, client.put):
        response = method(url(world.village), json={"amount_fen": 1},
                          headers=world.finance_b[1])
        assert response.status_code == 404


def test_bad_amounts_and_years_are_refused_without_writing(client, world, db):
    _, headers = world.finance1
    for body in ({"amount_fen": -1}, {"amount_fen": 1.5}, {"amount_fen": "100"}, {},
                 {"amount_fen": 1, "village_id": 3}, {"amount_fen": 10**18}):
        assert client.put(url(world.village), json=body, headers=headers).status_code == 422, body
    assert client.put(url(world.village, 1999), json={"amount_fen": 1},
                      headers=headers).status_code == 422
    assert income_for_year(db.session, world.village.id, 2024) is None
