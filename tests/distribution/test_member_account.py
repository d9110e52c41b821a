"""The distribution figures of the member account (Art. 43): approved plans only."""
from __future__ import annotations

from coop.distribution.account import member_year_figures
from tests.distribution.builders import approved_plan, create_plan, two_years


def test_member_year_figures_come_from_approved_plans_and_trades(client, db, make):
    coop, a, b = two_years(make, db.session)
    _, headers = make.login("coop_manager", coop)
    approved_plan(client, headers, coop, 2023)
    # 2023 (by hand): distributable 1,800; a: patronage 1,080 + share 360 = 1,440;
    # reserve 200 split 1,440 : 360 → 160; subsidy 400 equally → 200.
    assert member_year_figures(db.session, a.id, 2023) == {
        "reserve_share_fen": 160, "transaction_volume_fen": 100, "subsidy_share_fen": 200,
        "distributions_received_fen": 1_440}
    create_plan(client, headers, coop, 2024)      # a draft: not in anyone's account yet
    assert member_year_figures(db.session, a.id, 2024) == {
        "reserve_share_fen": 0, "transaction_volume_fen": 30, "subsidy_share_fen": 0,
        "distributions_received_fen": 0}
    assert member_year_figures(db.session, a.id, None) == {
        "reserve_share_fen": 160, "transaction_volume_fen": 130, "subsidy_share_fen": 200,
        "distributions_received_fen": 1_440}
    assert member_year_figures(db.session, b.id, 2023)["distributions_received_fen"] == 360
