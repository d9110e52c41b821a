"""Village party secretaries as dated terms (CONTRACT §10): history, no overlap, PATCH,
bank accounts masked, and the village's name of the secretary is today's."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

import coop.clock as clock
from coop.audit import AuditEntry
from coop.places.models import VillageSecretary
from tests.factories import valid_id_card

API = "/api/v1"


@pytest.fixture
def place(make):
    county = make.county()
    town = make.town(county)
    village = make.village(town, secretary=None)
    admin = make.login("county_admin", county)[1]
    finance = make.login("county_finance", county)[1]
    reviewer = make.login("county_reviewer", county, department="finance")[1]
    other = make.login("county_admin", make.county())[1]
    return {"county": county, "village": village, "admin": admin, "finance": finance,
            "reviewer": reviewer, "other": other}


def open_term(client, place, headers=None, **body):
    return client.post(f"{API}/villages/{place['village'].id}/secretaries",
                       headers=headers or place["finance"],
                       json={"person": {"name": "李书记"}, "start_on": "2021-01-01", **body})


def test_terms_have_history_and_the_village_shows_todays_secretary(client, place, db):
    first = open_term(client, place, end_on="2023-06-30",
                      person={"name": "王前任", "id_card_no": valid_id_card()})
    assert first.status_code == 201, first.get_json()
    second = open_term(client, place, start_on="2023-07-01", bank_name="农业银行",
                       bank_account="6228 4800 0000 1234 567")
    assert second.status_code == 201, second.get_json()
    body = second.get_json()
    assert body["bank_account"].endswith("4567") and "*" in body["bank_account"]
    assert body["in_office"] is True
    assert "*" in first.get_json()["person"]["id_card_no"]
    listed = client.get(f"{API}/villages/{place['village'].id}/secretaries",
                        headers=place["reviewer"]).get_json()
    assert [t["person"]["name"] for t in listed["items"]] == ["李书记", "王前任"]
    village = client.get(f"{API}/villages/{place['village'].id}",
                         headers=place["reviewer"]).get_json()
    assert village["party_secretary_name"] == "李书记"
    # stored encrypted: the column never holds the digits
    term = db.session.get(VillageSecretary, body["id"])
    assert "62284800000012345" not in (term.bank_account_enc or "")


def test_overlapping_terms_are_refused(client, place):
    assert open_term(client, place).status_code == 201           # open-ended from 2021
    response = open_term(client, place, start_on="2024-01-01")
    assert response.status_code == 422
    assert response.get_json()["code"] == "TERM_OVERLAP"
    response = open_term(client, place, start_on="2019-01-01", end_on="2021-01-01")
    assert response.get_json()["code"] == "TERM_OVERLAP"
    assert open_term(client, place, start_on="2019-01-01",
                     end_on="2020-12-31").status_code == 201


def test_patch_ends_a_term_and_sets_the_bank_account_audited(client, place, db):
    term = open_term(client, place).get_json()
    url = f"{API}/village-secretaries/{term['id']}"
    response = client.patch(url, headers=place["finance"],
                            json={"end_on": "2024-12-31", "bank_name": "农商银行",
                                  "bank_account": "6210000000000009876"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["end_on"] == "2024-12-31"
    assert response.get_json()["bank_account"].endswith("9876")
    # a term before the start is refused; half a bank account too
    assert client.patch(url, headers=place["finance"],
                        json={"end_on": "2020-01-01"}).status_code == 422
    assert client.patch(url, headers=place["finance"],
                        json={"bank_name": None, "bank_account": "123"}).status_code == 422
    # the successor can now start in 2025
    assert open_term(client, place, start_on="2025-01-01",
                     person={"name": "赵书记"}).status_code == 201
    entries = db.session.execute(db.select(AuditEntry).where(
        AuditEntry.object_type == "village_secretary")).scalars().all()
    assert [e.action for e in entries] == ["village_secretary.create",
                                           "village_secretary.update",
                                           "village_secretary.create"]
    assert "9876" in entries[1].after and "6210000000000009876" not in entries[1].after


def test_who_may_read_and_write_terms(client, place):
    assert open_term(client, place, headers=place["reviewer"]).status_code == 403
    assert open_term(client, place, headers=place["other"]).status_code == 404
    assert open_term(client, place, headers=place["admin"]).status_code == 201


def test_the_secretary_in_office_is_judged_by_chinas_date(client, place, monkeypatch):
    """A term starting 2025-01-01 is in office at 01:00 Beijing time on that day, which
    is still 31 December in UTC."""
    open_term(client, place, end_on="2024-12-31", person={"name": "旧书记"})
    open_term(client, place, start_on="2025-01-01", person={"name": "新书记"})
    monkeypatch.setattr(clock, "now",
                        lambda: datetime(2024, 12, 31, 17, 0, tzinfo=timezone.utc))
    assert clock.today() == date(2025, 1, 1)
    village = client.get(f"{API}/villages/{place['village'].id}",
                         headers=place["admin"]).get_json()
    assert village["party_secretary_name"] == "新书记"
