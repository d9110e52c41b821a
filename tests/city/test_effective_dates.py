"""Status changes take `effective_on` (default today, China's; never in the future, before
the cooperative was founded, or before the change it follows); the figures by year
count by it, so a past campaign recorded today lands in its own year."""
from __future__ import annotations

from datetime import date, timedelta, timezone

import coop.clock as clock
from coop.reports.figures import county_figures


def _post(client, headers, coop, **body):
    return client.post(f"/api/v1/cooperatives/{coop.id}/status-changes", headers=headers,
                       json={"reason": "规范提升验收", **body})


def test_a_past_campaign_is_recorded_with_its_own_date(client, db, make):
    coop = make.cooperative(founded_on=date(2019, 1, 1))
    county_id = coop.county_id
    from coop.places.models import County
    headers = make.login("county_admin", db.session.get(County, county_id))[1]
    shell = _post(client, headers, coop, to="shell", effective_on="2022-04-01")
    assert shell.status_code == 201, shell.get_json()
    assert shell.get_json()["effective_on"] == "2022-04-01"
    closed = _post(client, headers, coop, to="closed", effective_on="2023-09-30")
    assert closed.status_code == 201
    by_year = {y: county_figures(db.session, county_id, y, clock.today()) for y in (2022, 2023)}
    assert by_year[2022]["shells_cleared"]["total"] == 0
    assert by_year[2022]["cooperatives_by_status"]["shell"] == 1
    assert by_year[2023]["shells_cleared"] == {"closed": 1, "merged": 0, "transformed": 0,
                                               "total": 1}
    history = client.get(f"/api/v1/cooperatives/{coop.id}/status-changes",
                         headers=headers).get_json()["items"]
    assert [h["effective_on"] for h in history] == ["2022-04-01", "2023-09-30"]


def test_effective_on_defaults_to_chinas_today(client, db, make, monkeypatch):
    coop = make.cooperative()
    from coop.places.models import County
    headers = make.login("county_admin", db.session.get(County, coop.county_id))[1]
    # 20:00 UTC is already the next day in China.
    real = clock.now()
    late = real.astimezone(timezone.utc).replace(hour=20, minute=0)
    monkeypatch.setattr(clock, "now", lambda: late)
    response = _post(client, headers, coop, to="standardized")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["effective_on"] == (late.date() + timedelta(days=1)).isoformat()


def test_a_date_in_the_future_or_out_of_order_is_refused(client, db, make):
    coop = make.cooperative(founded_on=date(2020, 3, 1))
    from coop.places.models import County
    headers = make.login("county_admin", db.session.get(County, coop.county_id))[1]
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    for body, field in (({"effective_on": tomorrow}, "effective_on"),
                        ({"effective_on": "2019-12-31"}, "effective_on"),  # before founding
                        ({"effective_on": "1024-01-01"}, "effective_on")):
        response = _post(client, headers, coop, to="shell", **body)
        assert response.status_code == 422, (body, response.get_json())
        assert field in response.get_json()["errors"]
    assert _post(client, headers, coop, to="shell", effective_on="2023-05-01").status_code == 201
    earlier = _post(client, headers, coop, to="closed", effective_on="2023-04-30")
    assert earlier.status_code == 422
    db.session.expire_all()
    from coop.registry.models import Cooperative
    assert db.session.get(Cooperative, coop.id).status == "shell"      # nothing half-written


def test_the_county_dashboards_standardized_count_uses_the_effective_date(client, db, make):
    coop = make.cooperative(founded_on=date(2019, 1, 1))
    from coop.places.models import County
    county = db.session.get(County, coop.county_id)
    headers = make.login("county_admin", county)[1]
    assert _post(client, headers, coop, to="standardized",
                 effective_on="2023-12-31").status_code == 201
    for year, count in ((2023, 1), (2024, 0)):
        body = client.get("/api/v1/reports/dashboard", headers=headers,
                          query_string={"county_id": county.id, "year": year}).get_json()
        assert body["cooperatives"]["standardized_during_year"] == count
        assert body["figures"]["standardized"] == count
