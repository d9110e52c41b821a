"""Fixtures of the registry tests: a county with two cooperatives and their users."""
from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass
class World:
    county: object
    town: object
    village: object
    coop: object          # cooperative A
    other: object         # cooperative B, same county
    admin: dict           # county_admin headers
    manager: dict         # coop_manager of A
    manager_b: dict       # coop_manager of B
    reader: dict          # county_reviewer (organization)


@pytest.fixture
def world(make) -> World:
    county = make.county()
    town = make.town(county)
    village = make.village(town)
    coop = make.cooperative(village=village)
    other = make.cooperative(village=make.village(town))
    return World(
        county=county, town=town, village=village, coop=coop, other=other,
        admin=make.login("county_admin", county)[1],
        manager=make.login("coop_manager", coop)[1],
        manager_b=make.login("coop_manager", other)[1],
        reader=make.login("county_reviewer", county, department="organization")[1],
    )


def member_body(id_card: str, **over) -> dict:
    body = {"name": "王建国", "id_card_no": id_card, "phone": "13812345678",
            "member_type": "farmer", "joined_on": "2021-03-01",
            "bank_name": "中国农业银行单县支行", "bank_account": "6228480012345678901"}
    body.update(over)
    return body
