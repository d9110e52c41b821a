"""The payout report's figures (json) and who may see which scope."""
from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import select

from coop.payouts.models import PayoutLine
from coop.registry.models import Cooperative
from coop.reports.payouts_report import report_rows, scope_of
from tests.reports.builders import YEAR, db_batch_sum, db_line_sum

URL = "/api/v1/reports/payouts"


def _lines(session, county_id, year):
    """The county's lines of the year with each line's town worked out here."""
    coop_town = dict(session.execute(select(Cooperative.id, Cooperative.town_id)).all())
    lines = session.execute(select(PayoutLine).where(
        PayoutLine.county_id == county_id, PayoutLine.year == year)).scalars().all()
    return [(line, line.town_id or coop_town.get(line.cooperative_id)) for line in lines]


def test_county_total_matches_the_batches_and_lines_in_the_database(client, db, world,
                                                                    finance_headers):
    resp = client.get(URL, query_string={"scope": "county", "id": world.county.id,
                                         "year": YEAR}, headers=finance_headers)
    assert resp.status_code == 200, resp.json
    totals = resp.json["totals"]
    count, line_sum = db_line_sum(db.session, county_id=world.county.id, year=YEAR)
    _, issued = db_line_sum(db.session, county_id=world.county.id, year=YEAR, reversal=False)
    _, reversed_ = db_line_sum(db.session, county_id=world.county.id, year=YEAR, reversal=True)
    assert reversed_ < 0                                    # the world has a reversal
    assert totals["issued_fen"] == issued == db_batch_sum(db.session, world.county.id, YEAR)
    # reversed_fen is positive (issue 15: the same figures as a batch shows)
    assert totals["reversed_fen"] == -reversed_
    assert totals["total_fen"] == line_sum == issued + reversed_
    assert totals["line_count"] == count == resp.json["total"]
    assert sum(b["total_fen"] for b in totals["by_source"].values()) == line_sum
    assert sum(b["total_fen"] for b in totals["by_status"].values()) == line_sum
    for source in ("distribution", "reward", "subsidy"):
        assert totals["by_source"][source]["total_fen"] == db_line_sum(
            db.session, county_id=world.county.id, year=YEAR, source=source)[1]


def test_subtotals_per_cooperative_and_town_match_the_lines(client, db, world,
                                                            finance_headers):
    body = client.get(URL, query_string={"scope": "county", "id": world.county.id,
                                         "year": YEAR}, headers=finance_headers).json
    by_coop, by_town = Counter(), Counter()
    for line, town_id in _lines(db.session, world.county.id, YEAR):
        by_coop[line.cooperative_id] += line.amount_fen
        by_town[town_id] += line.amount_fen
    assert {c["cooperative_id"]: c["total_fen"] for c in body["cooperatives"]} == by_coop
    assert {t["town_id"]: t["total_fen"] for t in body["towns"]} == by_town
    assert {t["town_id"] for t in body["towns"]} == {t.id for t in world.towns}


def test_other_years_and_counties_stay_out(client, db, world, finance_headers):
    body = client.get(URL, query_string={"scope": "county", "id": world.county.id,
                                         "year": YEAR, "per_page": 100},
                      headers=finance_headers).json
    ids = {item["id"] for item in body["items"]}
    expected = {line.id for line, _ in _lines(db.session, world.county.id, YEAR)}
    assert ids == expected
    assert all(item["amount_fen"] != 424_242 and item["amount_fen"] != 888_888
               for item in body["items"])


def test_town_scope_includes_lines_without_a_town_through_their_cooperative(
        client, db, world, finance_headers):
    town = world.towns[0]
    body = client.get(URL, query_string={"scope": "town", "id": town.id, "year": YEAR,
                                         "per_page": 100}, headers=finance_headers).json
    expected = [(line.id, line.amount_fen) for line, town_id in
                _lines(db.session, world.county.id, YEAR) if town_id == town.id]
    assert any(line.town_id is None for line, t in _lines(db.session, world.county.id, YEAR)
               if t == town.id)
    assert sorted((i["id"], i["amount_fen"]) for i in body["items"]) == sorted(expected)
    assert body["totals"]["total_fen"] == sum(fen for _, fen in expected)


def test_lines_show_source_status_bank_ref_and_only_the_masked_account(client, world,
                                                                      finance_headers):
    resp = client.get(URL, query_string={"scope": "cooperative", "id": world.coops[0].id,
                                         "year": YEAR}, headers=finance_headers)
    items = resp.json["items"]
    paid = [i for i in items if i["status"] == "paid" and i["source"] == "distribution"]
    assert paid and all(i["bank_ref"] for i in paid)
    assert {i["status"] for i in items} >= {"paid", "failed", "reversed"}
    reversal = next(i for i in items if i["reverses_id"])
    assert reversal["amount_fen"] < 0
    assert all(i["bank_account_masked"].startswith("*") for i in items)
    assert "6228480000000000" not in resp.get_data(as_text=True)


def test_json_lines_are_paged_and_per_page_above_100_is_refused(client, world,
                                                                finance_headers):
    query = {"scope": "county", "id": world.county.id, "year": YEAR, "per_page": 3}
    first = client.get(URL, query_string=query, headers=finance_headers).json
    second = client.get(URL, query_string={**query, "page": 2}, headers=finance_headers).json
    assert len(first["items"]) == 3 and first["total"] > 3
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    too_many = client.get(URL, query_string={**query, "per_page": 101},
                          headers=finance_headers)
    assert too_many.status_code == 422


def test_bad_query_arguments_are_422(client, world, finance_headers):
    base = {"scope": "county", "id": world.county.id, "year": YEAR}
    for bad in ({"scope": "village"}, {"format": "docx"}, {"year": "abc"}, {"id": 0},
                {"id": 2**70}, {"year": None}):
        query = {k: v for k, v in {**base, **bad}.items() if v is not None}
        resp = client.get(URL, query_string=query, headers=finance_headers)
        assert resp.status_code == 422, (bad, resp.status_code)
        assert resp.headers["Content-Type"].startswith("application/problem+json")


def test_county_staff_of_another_county_get_404(client, make, world):
    _, headers = make.login("county_admin", world.other_county)
    for scope, obj in (("county", world.county), ("town", world.towns[0]),
                       ("cooperative", world.coops[0])):
        resp = client.get(URL, query_string={"scope": scope, "id": obj.id, "year": YEAR},
                          headers=headers)
        assert resp.status_code == 404, scope


def test_a_coop_manager_sees_their_own_cooperative_only(client, make, world):
    _, headers = make.login("coop_manager", world.coops[1])
    own = client.get(URL, query_string={"scope": "cooperative", "id": world.coops[1].id,
                                        "year": YEAR}, headers=headers)
    assert own.status_code == 200
    assert {i["cooperative_id"] for i in own.json["items"]} == {world.coops[1].id}
    other = client.get(URL, query_string={"scope": "cooperative", "id": world.coops[0].id,
                                          "year": YEAR}, headers=headers)
    assert other.status_code == 404
    for scope, obj in (("county", world.county), ("town", world.towns[0])):
        resp = client.get(URL, query_string={"scope": scope, "id": obj.id, "year": YEAR},
                          headers=headers)
        assert resp.status_code == 403, scope


def test_members_commissioners_and_anonymous_callers_are_refused(client, make, world):
    query = {"scope": "cooperative", "id": world.coops[0].id, "year": YEAR}
    member = world.members[world.coops[0].id][0]
    for role, scope in (("member", member), ("commissioner", world.coops[0])):
        _, headers = make.login(role, scope)
        assert client.get(URL, query_string=query, headers=headers).status_code == 403
    assert client.get(URL, query_string=query).status_code == 401


def test_streamed_rows_put_a_subtotal_after_each_cooperative_and_town(db, world):
    report = scope_of(db.session, "county", world.county, YEAR)
    rows = list(report_rows(db.session, report, batch=2))
    kinds = [getattr(r, "level", "line") for r in rows]
    assert kinds[-1] == "total" and kinds.count("total") == 1
    # every cooperative subtotal equals the lines just above it, since the last subtotal
    running = defaultdict(int)
    for row in rows:
        level = getattr(row, "level", None)
        if level is None:
            running["coop"] += row.amount_fen
            running["town"] += row.amount_fen
            running["all"] += row.amount_fen
        elif level == "cooperative":
            assert row.total_fen == running.pop("coop")
        elif level == "town":
            assert "coop" not in running  # the cooperative closed first
            assert row.total_fen == running.pop("town")
        else:
            assert row.total_fen == running["all"]
    assert rows[-1].total_fen == db_line_sum(db.session, county_id=world.county.id,
                                             year=YEAR)[1]
