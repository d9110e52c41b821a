"""A county with two villages and their cooperatives, its staff, and a second county (B)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from coop import crypto
from coop.registry.models import Officer, ProfessionalManager
from tests.factories import valid_id_card


@dataclass
class World:
    county: object
    village: object            # lead village of `coop` (secretary 李书记)
    other_village: object
    coop: object
    other_coop: object
    admin: tuple
    finance1: tuple
    finance2: tuple
    reviewers: dict            # department → (user, headers)
    manager: tuple             # coop_manager of `coop`
    county_b: object
    finance_b: tuple
    admin_b: tuple


@pytest.fixture
def world(make) -> World:
    county = make.county(name="单县")
    town = make.town(county)
    village = make.village(town, secretary="李书记")
    other_village = make.village(town, secretary="王书记")
    coop = make.cooperative(village, bank_name="农商银行",
                            bank_account_enc=crypto.encrypt("6210000000000000007"),
                            bank_account_masked="6210****0007")
    other_coop = make.cooperative(other_village)
    county_b = make.county(name="郓城县")
    return World(
        county=county, village=village, other_village=other_village, coop=coop,
        other_coop=other_coop,
        admin=make.login("county_admin", county),
        finance1=make.login("county_finance", county),
        finance2=make.login("county_finance", county),
        reviewers={d: make.login("county_reviewer", county, department=d)
                   for d in ("organization", "finance", "agriculture")},
        manager=make.login("coop_manager", coop),
        county_b=county_b,
        finance_b=make.login("county_finance", county_b),
        admin_b=make.login("county_admin", county_b),
    )


def person(name: str, id_card: str | None = None) -> dict:
    id_card = id_card or valid_id_card()
    return {"name": name, "id_card_enc": crypto.encrypt(id_card),
            "id_card_hash": crypto.blind_index(id_card),
            "id_card_masked": crypto.mask_id_card(id_card)}


def bank(account: str | None) -> dict:
    if account is None:
        return {}
    return {"bank_name": "农业银行", "bank_account_enc": crypto.encrypt(account),
            "bank_account_hash": crypto.blind_index(account),
            "bank_account_masked": crypto.mask_account(account)}


def add_officer(session, coop, name, role="director", start_on=date(2020, 1, 1), end_on=None,
                id_card=None, bank_account="6228480000000000001") -> Officer:
    officer = Officer(county_id=coop.county_id, cooperative_id=coop.id, role=role,
                      village_committee_member=True, start_on=start_on, end_on=end_on,
                      **person(name, id_card), **bank(bank_account))
    session.add(officer)
    session.commit()
    return officer


def add_professional_manager(session, coop, name, start=date(2023, 1, 1),
                             end=date(2026, 12, 31), id_card=None,
                             bank_account="6228480000000000002") -> ProfessionalManager:
    manager = ProfessionalManager(county_id=coop.county_id, cooperative_id=coop.id,
                                  contract_start=start, contract_end=end,
                                  base_pay_fen_per_year=6_000_000, **person(name, id_card),
                                  **bank(bank_account))
    session.add(manager)
    session.commit()
    return manager


def problem_code(response) -> str:
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    return response.get_json()["code"]
