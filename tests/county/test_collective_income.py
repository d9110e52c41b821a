"""PUT/GET /villages/{id}/collective-income/{year}: the entered figure and the breakdown."""
from sqlalchemy import select

from coop.audit import AuditEntry
from coop.county.income import income_for_year, record_collective_dividend
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


def test_total_is_the_entered_figure_plus_distribution_lines(client, world, db):
    admin, headers = world.admin
    record_collective_dividend(db.session, admin, world.village.id, 2024, 2_345, payout_line_id=77)
    db.session.commit()
    client.put(url(world.village), json={"amount_fen": 10_000}, headers=headers)
    body = client.get(url(world.village), headers=world.reviewers["finance"][1]).get_json()
    assert body["total_fen"] == 12_345
    assert sorted((i["source"], i["source_id"], i["amount_fen"]) for i in body["items"]) == [
        ("distribution", 77, 2_345), ("entered", 0, 10_000)]
    assert income_for_year(db.session, world.village.id, 2024) == 12_345
    assert income_for_year(db.session, world.village.id, 2023) == 0


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
    assert income_for_year(db.session, world.village.id, 2024) == 0
