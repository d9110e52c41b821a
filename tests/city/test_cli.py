"""`flask cities create`, `flask counties create --city-code`, `set-city`, `zone-size`."""
from __future__ import annotations

from sqlalchemy import select

from coop.places.cities import City
from coop.places.models import County
from coop.places.settings import zone_size


def test_a_city_and_its_counties_from_the_command_line(runner, db):
    made = runner.invoke(args=["cities", "create", "--name", "菏泽市", "--code", "371700"])
    assert made.exit_code == 0, made.output
    city_id = int(made.output.strip())
    county = runner.invoke(args=["counties", "create", "--name", "郓城县", "--code", "371725",
                                 "--city-code", "371700"])
    assert county.exit_code == 0, county.output
    yuncheng = db.session.get(County, int(county.output.strip()))
    assert yuncheng.city_id == city_id
    # a county whose code lies outside the city: refused, nothing written
    outside = runner.invoke(args=["counties", "create", "--name", "汶上县", "--code", "370830",
                                  "--city-code", "371700"])
    assert outside.exit_code == 1 and "COUNTY_OUTSIDE_CITY" in outside.output
    assert db.session.execute(select(County).where(County.code == "370830")).first() is None
    unknown = runner.invoke(args=["counties", "create", "--name", "某县", "--code", "371726",
                                  "--city-code", "379900"])
    assert unknown.exit_code == 1
    again = runner.invoke(args=["cities", "create", "--name", "菏泽", "--code", "371700"])
    assert again.exit_code == 1 and "CITY_CODE_TAKEN" in again.output
    assert runner.invoke(args=["cities", "create", "--name", "x", "--code", "3717"]).exit_code == 1


def test_set_city_and_zone_size(runner, db, make):
    county = make.county(name="单县", code="371722")
    runner.invoke(args=["cities", "create", "--name", "菏泽市", "--code", "371700"])
    moved = runner.invoke(args=["counties", "set-city", "--code", "371722",
                                "--city-code", "371700"])
    assert moved.exit_code == 0, moved.output
    db.session.expire_all()
    city = db.session.execute(select(City)).scalar_one()
    assert db.session.get(County, county.id).city_id == city.id
    sized = runner.invoke(args=["counties", "zone-size", "--code", "371722", "--min", "8",
                                "--max", "12"])
    assert sized.exit_code == 0, sized.output
    assert zone_size(db.session, county.id) == (8, 12)
    bad = runner.invoke(args=["counties", "zone-size", "--code", "371722", "--min", "5",
                              "--max", "2"])
    assert bad.exit_code == 1 and "ZONE_SIZE_INVALID" in bad.output
