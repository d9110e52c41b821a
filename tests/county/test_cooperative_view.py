"""What the cooperative sees of the county side (CONTRACT §10): issue 15 found its
manager got 403 on the programs it could apply to, its grade, the year's reward rules,
its people's reward lines and its village's income."""
from __future__ import annotations

import coop.clock as clock
from tests.county.test_evaluations import make_program, set_rules

API = "/api/v1"


def test_a_coop_manager_lists_open_programs_and_reads_the_rules(client, world):
    this_year = clock.today().year
    open_one = make_program(client, world, budget_fen=1_000_000, year=this_year)
    make_program(client, world, budget_fen=1_000_000, year=this_year - 3)     # over
    set_rules(client, world, open_one["id"], year=this_year)
    manager = world.manager[1]
    listed = client.get(f"{API}/counties/{world.county.id}/programs?open=true",
                        headers=manager)
    assert listed.status_code == 200, listed.get_json()
    assert [p["id"] for p in listed.get_json()["items"]] == [open_one["id"]]
    # without `open` a manager still sees only the open ones; county staff see all
    assert client.get(f"{API}/counties/{world.county.id}/programs",
                      headers=manager).get_json()["total"] == 1
    assert client.get(f"{API}/counties/{world.county.id}/programs",
                      headers=world.finance1[1]).get_json()["total"] == 2
    rules = client.get(f"{API}/counties/{world.county.id}/reward-rules/{this_year}",
                       headers=manager)
    assert rules.status_code == 200 and rules.get_json()["award_once"] is True
    # another county's are not his
    assert client.get(f"{API}/counties/{world.county_b.id}/programs",
                      headers=manager).status_code == 404
    assert client.get(f"{API}/counties/{world.county_b.id}/reward-rules/{this_year}",
                      headers=manager).status_code == 404
