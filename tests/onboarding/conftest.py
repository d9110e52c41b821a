"""Fixtures of the onboarding tests: a county, one cooperative with its manager, a
second cooperative of the same county and a cooperative of another county."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

import coop.clock as clock


@dataclass
class World:
    county: object
    coop: object
    other: object           # same county, another cooperative
    foreign: object         # another county's cooperative
    manager_user: object
    manager: dict           # coop_manager of `coop`
    manager_other: dict
    manager_foreign: dict
    admin: dict             # county_admin
    reviewer: dict          # county_reviewer (organization)
    finance: dict


@pytest.fixture
def world(make) -> World:
    county = make.county()
    coop = make.cooperative(county=county)
    other = make.cooperative(county=county)
    foreign = make.cooperative(county=make.county(name="曹县"))
    manager_user, manager = make.login("coop_manager", coop)
    return World(county=county, coop=coop, other=other, foreign=foreign,
                 manager_user=manager_user, manager=manager,
                 manager_other=make.login("coop_manager", other)[1],
                 manager_foreign=make.login("coop_manager", foreign)[1],
                 admin=make.login("county_admin", county)[1],
                 reviewer=make.login("county_reviewer", county, department="organization")[1],
                 finance=make.login("county_finance", county)[1])


@pytest.fixture
def china_just_after_midnight(monkeypatch):
    """01:30 on 2026-03-02 in China, still 2026-03-01 in UTC: "today" is China's."""
    moment = datetime(2026, 3, 1, 17, 30, tzinfo=timezone.utc)
    monkeypatch.setattr(clock, "now", lambda: moment)
    return moment
