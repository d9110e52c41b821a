"""GET /cooperatives/{id}/compliance: figures worked out by hand for small registers."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.factories import valid_id_card

from coop.shares.services import approve_operation, submit_operation
from coop.registry.models import Officer
from coop.registry import people


def report(client, world, coop=None):
    response = client.get(f"/api/v1/cooperatives/{(coop or world.coop).id}/compliance",
                          headers=world.reader)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def members(make, coop, farmers=0, enterprises=0, collective=False, others=0):
    made = [make.member(coop) for _ in range(farmers)]
    made += [make.member(coop, member_type="enterprise") for _ in range(enterprises)]
    made += [make.member(coop, member_type="other") for _ in range(others)]
    if collective:
        made.append(make.member(coop, member_type="collective"))
    return made


def test_an_empty_register_fails_the_member_checks(client, world):
    out = report(client, world)
    assert out["member_count"] == {"value": 0, "minimum": 5, "ok": False}
    assert out["farmer_ratio"]["ok"] is False and out["farmer_ratio"]["ratio"] == "0.0000"
    assert out["ok"] is False


def test_four_farmers_of_five_members_is_exactly_eighty_percent(client, world, make):
    members(make, world.coop, farmers=4, collective=True)
    out = report(client, world)
    assert out["member_count"]["ok"] is True
    assert out["farmer_ratio"] == {"farmers": 4, "members": 5, "ratio": "0.8000",
                                   "minimum_rate": "0.80", "ok": True}
    assert out["enterprise_members"] == {"value": 0, "members": 5, "limit": 1, "ok": True}


def test_farmers_below_eighty_percent_fail(client, world, make):
    members(make, world.coop, farmers=5, enterprises=1, collective=True)  # 5 / 7
    out = report(client, world)
    assert out["farmer_ratio"]["ratio"] == "0.7143" and out["farmer_ratio"]["ok"] is False


def test_enterprise_limit_is_one_up_to_twenty_members_then_five_percent(client, world, make):
    members(make, world.coop, farmers=18, enterprises=2)  # 20 members: at most 1
    small = report(client, world)["enterprise_members"]
    assert (small["limit"], small["ok"]) == (1, False)
    members(make, world.coop, farmers=20)                 # 40 members: 5% = 2
    large = report(client, world)["enterprise_members"]
    assert (large["members"], large["limit"], large["ok"]) == (40, 2, True)
    members(make, world.coop, enterprises=1)              # 41 members: floor(2.05) = 2
    assert report(client, world)["enterprise_members"]["ok"] is False


def test_members_who_left_are_not_counted(client, world, make, db):
    made = members(make, world.coop, farmers=5)
    made[0].status, made[0].left_on, made[0].leave_reason = "left", date(2020, 6, 1), "x"
    db.session.commit()
    assert report(client, world)["member_count"]["value"] == 4


def _holdings(db, coop, amounts: dict):
    """Subscribe cash through the shares capability's own use cases (submit, approve)."""
    for member, fen in amounts.items():
        op = submit_operation(db.session, None, coop, type="subscribe", member_id=member.id,
                              kind="cash", effective_on=date(2021, 1, 1), amount_fen=fen)
        approve_operation(db.session, None, op)


def test_largest_holder_ratio_against_the_charter_cap(client, world, make, db):
    a, b, c, d, collective = members(make, world.coop, farmers=4, collective=True)
    # The register is built under a loose charter cap, which is then tightened: the
    # report must show the breach the new cap makes.
    world.coop.single_member_cap_rate = Decimal("0.50")
    db.session.commit()
    # total 1,000,000 fen; the collective holds 40% but is exempt by default; the largest
    # capped holder is a with 250,000 / 1,000,000 = 0.25 > 0.20
    _holdings(db, world.coop, {a: 250_000, b: 150_000, c: 100_000, d: 100_000,
                               collective: 400_000})
    world.coop.single_member_cap_rate = Decimal("0.20")
    db.session.commit()
    out = report(client, world)["largest_holder_ratio"]
    assert (out["member_id"], out["holding_fen"], out["total_fen"]) == (a.id, 250_000,
                                                                        1_000_000)
    assert (out["ratio"], out["cap_rate"], out["ok"]) == ("0.2500", "0.20", False)
    world.coop.single_member_cap_rate = Decimal("0.25")
    db.session.commit()
    assert report(client, world)["largest_holder_ratio"]["ok"] is True  # 0.25 ≤ 0.25
    world.coop.collective_cap_applies = True
    db.session.commit()
    out = report(client, world)["largest_holder_ratio"]
    assert (out["member_id"], out["ratio"], out["ok"]) == (collective.id, "0.4000", False)


def _seat(db, coop, id_card, role, committee, start=date(2020, 1, 1), end=None):
    db.session.add(Officer(county_id=coop.county_id, cooperative_id=coop.id, role=role,
                           village_committee_member=committee, start_on=start, end_on=end,
                           name="某某", phone=None, **people.id_card_columns(id_card)))


def test_cross_appointment_counts_current_board_and_supervisors_once_each(client, world, db):
    chair, director, other_director, supervisor = (valid_id_card() for _ in range(4))
    _seat(db, world.coop, chair, "chair", True)
    _seat(db, world.coop, chair, "director", False)          # same person: counted once
    _seat(db, world.coop, director, "director", True)
    _seat(db, world.coop, other_director, "director", False)
    _seat(db, world.coop, supervisor, "supervisor_chair", True)
    _seat(db, world.coop, valid_id_card(), "accountant", False)  # not a board seat
    _seat(db, world.coop, valid_id_card(), "supervisor", False,
          start=date(2015, 1, 1), end=date(2019, 12, 31))       # term over
    db.session.commit()
    out = report(client, world)["cross_appointment_ratio"]
    # people: chair, director, other_director, supervisor = 4; on the committee: 3
    assert out == {"officers": 4, "village_committee_members": 3, "ratio": "0.7500",
                   "minimum_rate": "0.50", "ok": True}
