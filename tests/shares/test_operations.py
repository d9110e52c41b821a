"""Share operations through the service functions: states, rules, reversal, status."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from coop import clock
from coop.audit import AuditEntry
from coop.errors import DomainError
from coop.registry.models import Member
from coop.shares import services
from coop.shares.models import ShareLine, ShareOperation, ShareRegisterHead
from coop.shares.register import holdings_as_of, member_totals_as_of
from tests.shares.conftest import FOUNDED


def lines(session):
    return session.execute(select(ShareLine.line_no, ShareLine.member_id, ShareLine.kind,
                                  ShareLine.delta_fen).order_by(ShareLine.line_no)).all()


def test_submission_writes_no_lines_and_approval_writes_numbered_lines(ledger):
    a, b = ledger.member(), ledger.member()
    op = ledger.submit("subscribe", a, amount_fen=500)
    assert op.status == "submitted" and lines(ledger.session) == []
    ledger.approve(op)
    ledger.done("transfer", a, to=b, amount_fen=200)
    assert lines(ledger.session) == [(1, a.id, "cash", 500), (2, a.id, "cash", -200),
                                     (3, b.id, "cash", 200)]
    head = ledger.session.get(ShareRegisterHead, ledger.coop.id)
    assert head.last_line_no == 3


def test_a_second_approval_or_a_late_rejection_is_a_state_conflict(ledger):
    op = ledger.done("subscribe", ledger.member(), amount_fen=100)
    assert ledger.refused(ledger.approve, op) == "STATE_CONFLICT"
    assert ledger.refused(services.reject_operation, ledger.session, ledger.manager, op,
                          "晚了") == "STATE_CONFLICT"
    assert len(lines(ledger.session)) == 1


def test_a_rejected_operation_cannot_be_approved(ledger):
    op = ledger.submit("subscribe", ledger.member(), amount_fen=100)
    ledger.run(services.reject_operation, ledger.session, ledger.manager, op, "材料不全")
    assert op.status == "rejected" and op.reject_reason == "材料不全"
    assert ledger.refused(ledger.approve, op) == "STATE_CONFLICT"
    assert lines(ledger.session) == []


def test_future_effective_date_is_refused(ledger):
    tomorrow = clock.today() + timedelta(days=1)
    assert ledger.refused(ledger.submit, "subscribe", ledger.member(), amount_fen=1,
                          on=tomorrow) == "EFFECTIVE_DATE_IN_FUTURE"


def test_future_effective_date_is_refused_again_at_approval(ledger, monkeypatch):
    op = ledger.submit("subscribe", ledger.member(), amount_fen=1, on=date(2024, 6, 1))
    monkeypatch.setattr(clock, "today", lambda: date(2024, 5, 31))
    assert ledger.refused(ledger.approve, op) == "EFFECTIVE_DATE_IN_FUTURE"


def test_redeeming_more_than_the_holding_is_refused(ledger):
    a = ledger.member()
    ledger.done("subscribe", a, amount_fen=100)
    assert ledger.refused(ledger.submit, "redeem", a, amount_fen=101) == "INSUFFICIENT_SHARES"
    ledger.done("redeem", a, amount_fen=100)


def test_holding_is_per_kind(ledger):
    a, b = ledger.member(), ledger.member()
    ledger.done("subscribe", a, "cash", amount_fen=1_000)
    assert ledger.refused(ledger.submit, "transfer", a, "labour", to=b,
                          amount_fen=1) == "INSUFFICIENT_SHARES"


def test_transfer_before_the_shares_were_held_is_refused(ledger):
    a, b = ledger.member(), ledger.member()
    ledger.done("subscribe", a, amount_fen=100, on=date(2024, 3, 1))
    assert ledger.refused(ledger.submit, "transfer", a, to=b, amount_fen=100,
                          on=date(2024, 2, 28)) == "INSUFFICIENT_SHARES"


def test_back_dated_redemption_may_not_make_a_later_holding_negative(ledger):
    a, b = ledger.member(), ledger.member()
    ledger.done("subscribe", a, amount_fen=100, on=date(2024, 2, 1))
    ledger.done("transfer", a, to=b, amount_fen=100, on=date(2024, 4, 1))
    # On 1 March a still holds 100, but after 1 April it would hold −50.
    assert ledger.refused(ledger.submit, "redeem", a, amount_fen=50,
                          on=date(2024, 3, 1)) == "INSUFFICIENT_SHARES"


def test_two_pending_redemptions_are_checked_against_the_register_at_approval(ledger):
    a = ledger.member()
    ledger.done("subscribe", a, amount_fen=100)
    first = ledger.submit("redeem", a, amount_fen=80)
    second = ledger.submit("redeem", a, amount_fen=80)
    ledger.approve(first)
    assert ledger.refused(ledger.approve, second) == "INSUFFICIENT_SHARES"
    assert ledger.session.get(ShareOperation, second.id).status == "submitted"


def test_transfer_of_subsidy_shares_is_refused(ledger):
    a, b = ledger.member(), ledger.member()
    ledger.done("subscribe", a, "fiscal_subsidy", amount_fen=1_000)
    assert ledger.refused(ledger.submit, "transfer", a, "fiscal_subsidy", to=b,
                          amount_fen=10) == "NOT_TRANSFERABLE"
    assert ledger.refused(ledger.submit, "redeem", a, "fiscal_subsidy",
                          amount_fen=10) == "NOT_TRANSFERABLE"


def test_transfer_to_someone_not_yet_a_member_is_refused(ledger):
    a = ledger.member()
    newcomer = ledger.member(joined_on=date(2024, 5, 1))
    ledger.done("subscribe", a, amount_fen=100)
    assert ledger.refused(ledger.submit, "transfer", a, to=newcomer, amount_fen=10,
                          on=date(2024, 4, 30)) == "TRANSFEREE_NOT_MEMBER"
    ledger.done("transfer", a, to=newcomer, amount_fen=10, on=date(2024, 5, 1))


def test_transfer_to_a_member_who_left_is_refused(ledger):
    a = ledger.member()
    gone = ledger.member(status="left", left_on=date(2024, 3, 1))
    ledger.done("subscribe", a, amount_fen=100)
    assert ledger.refused(ledger.submit, "transfer", a, to=gone,
                          amount_fen=10) == "TRANSFEREE_NOT_MEMBER"


def test_transferee_who_leaves_before_approval_is_refused_at_approval(ledger):
    a, b = ledger.member(), ledger.member()
    ledger.done("subscribe", a, amount_fen=100)
    op = ledger.submit("transfer", a, to=b, amount_fen=10)
    b.status, b.left_on = "left", FOUNDED
    ledger.session.commit()
    assert ledger.refused(ledger.approve, op) == "TRANSFEREE_NOT_MEMBER"


def test_member_of_another_cooperative_is_refused(ledger, make):
    stranger = make.member(make.cooperative())
    assert ledger.refused(ledger.submit, "subscribe", stranger,
                          amount_fen=1) == "MEMBER_NOT_IN_COOPERATIVE"
    a = ledger.member()
    ledger.done("subscribe", a, amount_fen=100)
    assert ledger.refused(ledger.submit, "transfer", a, to=stranger,
                          amount_fen=1) == "MEMBER_NOT_IN_COOPERATIVE"


def test_collective_asset_shares_belong_to_the_collective(ledger):
    assert ledger.refused(ledger.submit, "subscribe", ledger.member(), "collective_asset",
                          amount_fen=1) == "KIND_NOT_ALLOWED"


def test_land_by_area_needs_a_charter_rate(db, make):
    from decimal import Decimal

    from tests.shares.conftest import Ledger
    ledger = Ledger(db, make, land_rate_fen_per_mu=0)
    assert ledger.refused(ledger.submit, "subscribe", ledger.member(), "land",
                          area_mu=Decimal("1")) == "CHARTER_RATE_MISSING"


def test_member_whose_holding_reaches_zero_becomes_former_and_active_again(ledger):
    a, b = ledger.member(), ledger.member()
    ledger.done("subscribe", a, amount_fen=100)
    ledger.done("transfer", a, to=b, amount_fen=100)
    assert ledger.session.get(Member, a.id).status == "former"
    assert ledger.refused(ledger.submit, "transfer", b, to=a,
                          amount_fen=1) == "TRANSFEREE_NOT_MEMBER"
    ledger.done("subscribe", a, amount_fen=50)
    assert ledger.session.get(Member, a.id).status == "active"
    actions = ledger.session.execute(select(AuditEntry.action).where(
        AuditEntry.object_type == "member")).scalars().all()
    assert actions == ["member.status_change", "member.status_change"]


def test_a_member_who_left_may_redeem_but_not_subscribe(ledger):
    a = ledger.member()
    ledger.done("subscribe", a, amount_fen=100)
    a.status, a.left_on = "left", date(2024, 6, 1)
    ledger.session.commit()
    assert ledger.refused(ledger.submit, "subscribe", a, amount_fen=1,
                          on=date(2024, 6, 2)) == "MEMBER_NOT_ACTIVE"
    ledger.done("redeem", a, amount_fen=100, on=date(2024, 6, 2))
    assert ledger.session.get(Member, a.id).status == "left"


def test_reversal_writes_the_original_lines_negated_and_references_it(ledger):
    a, b = ledger.member(), ledger.member()
    ledger.done("subscribe", a, amount_fen=300, on=date(2024, 2, 1))
    transfer = ledger.done("transfer", a, to=b, amount_fen=100, on=date(2024, 3, 1))
    rev = ledger.run(services.reverse_operation, ledger.session, ledger.manager, transfer,
                     reason="录错受让人")
    assert (rev.type, rev.status, rev.reverses_id) == ("reverse", "submitted", transfer.id)
    assert rev.effective_on == date(2024, 3, 1)
    ledger.approve(rev)
    assert lines(ledger.session)[-2:] == [(4, a.id, "cash", 100), (5, b.id, "cash", -100)]
    assert member_totals_as_of(ledger.session, ledger.coop.id, date(2024, 3, 1)) == {a.id: 300}
    assert ledger.session.get(Member, b.id).status == "former"


def test_an_operation_is_reversed_at_most_once(ledger):
    op = ledger.done("subscribe", ledger.member(), amount_fen=300)
    first = ledger.run(services.reverse_operation, ledger.session, ledger.manager, op, reason="错")
    assert ledger.refused(services.reverse_operation, ledger.session, ledger.manager, op,
                          reason="又错") == "STATE_CONFLICT"
    ledger.approve(first)
    assert ledger.refused(services.reverse_operation, ledger.session, ledger.manager, op,
                          reason="再错") == "STATE_CONFLICT"
    assert ledger.refused(services.reverse_operation, ledger.session, ledger.manager, first,
                          reason="冲正的冲正") == "STATE_CONFLICT"


def test_a_rejected_reversal_allows_a_new_one(ledger):
    op = ledger.done("subscribe", ledger.member(), amount_fen=300)
    first = ledger.run(services.reverse_operation, ledger.session, ledger.manager, op, reason="错")
    ledger.run(services.reject_operation, ledger.session, ledger.manager, first, "不必冲正")
    second = ledger.run(services.reverse_operation, ledger.session, ledger.manager, op,
                        reason="还是错")
    ledger.approve(second)
    assert holdings_as_of(ledger.session, ledger.coop.id, clock.today()) == {}


def test_reversal_that_would_leave_a_later_holding_negative_is_refused(ledger):
    a, b = ledger.member(), ledger.member()
    sub = ledger.done("subscribe", a, amount_fen=100, on=date(2024, 2, 1))
    rev = ledger.run(services.reverse_operation, ledger.session, ledger.manager, sub, reason="错")
    ledger.done("transfer", a, to=b, amount_fen=100, on=date(2024, 3, 1))
    # Checked again at approval: a passed its shares on to b in the meantime.
    assert ledger.refused(ledger.approve, rev) == "INSUFFICIENT_SHARES"
    ledger.run(services.reject_operation, ledger.session, ledger.manager, rev, "先冲正转让")
    # And refused at once when requested now.
    assert ledger.refused(services.reverse_operation, ledger.session, ledger.manager, sub,
                          reason="错") == "INSUFFICIENT_SHARES"


def test_convert_surplus_approves_at_once_and_leaves_the_commit_to_the_caller(ledger):
    a = ledger.member()
    op = services.convert_surplus(ledger.session, ledger.manager, ledger.coop, a.id, 12_345,
                                  date(2024, 12, 31), distribution_id=77)
    assert (op.type, op.kind, op.status, op.distribution_id) == (
        "convert_surplus", "cash", "approved", 77)
    assert lines(ledger.session) == [(1, a.id, "cash", 12_345)]
    ledger.session.rollback()      # the distribution's transaction failed
    assert lines(ledger.session) == []
    assert ledger.session.execute(select(ShareOperation)).first() is None


def test_convert_surplus_obeys_the_cap(ledger):
    members = [ledger.member() for _ in range(5)]
    for member in members:
        ledger.done("subscribe", member, amount_fen=100_000)
    with pytest.raises(DomainError) as info:
        services.convert_surplus(ledger.session, ledger.manager, ledger.coop, members[0].id,
                                 1, FOUNDED, distribution_id=1)
    assert info.value.code == "SINGLE_MEMBER_CAP_EXCEEDED"
    ledger.session.rollback()


def test_every_write_is_audited(ledger):
    a = ledger.member()
    op = ledger.done("subscribe", a, amount_fen=100)
    ledger.run(services.reject_operation, ledger.session, ledger.manager,
                              ledger.submit("subscribe", a, amount_fen=1), "不")
    ledger.run(services.reverse_operation, ledger.session, ledger.manager, op, reason="错")
    actions = ledger.session.execute(select(AuditEntry.action).where(
        AuditEntry.object_type == "share_operation").order_by(AuditEntry.seq)).scalars().all()
    assert actions == ["share_operation.submit", "share_operation.approve",
                       "share_operation.submit", "share_operation.reject",
                       "share_operation.reverse"]


def test_register_on_past_dates_reads_the_same_from_balances_or_from_lines(ledger):
    a, b = ledger.member(), ledger.member()
    days = [date(2024, m, 1) for m in range(2, 8)]
    ledger.done("subscribe", a, amount_fen=1_000, on=days[0])
    for day in days[1:]:
        ledger.done("transfer", a, to=b, amount_fen=100, on=day)
    # 11 lines; a date with few later lines subtracts them from the balances, one with
    # many sums the lines up to it: both must give the hand-computed holdings.
    assert member_totals_as_of(ledger.session, ledger.coop.id, days[4]) == {a.id: 600, b.id: 400}
    assert member_totals_as_of(ledger.session, ledger.coop.id, days[1]) == {a.id: 900, b.id: 100}
    assert member_totals_as_of(ledger.session, ledger.coop.id, date(2024, 1, 1)) == {}


def test_balances_can_be_rebuilt_from_the_lines(ledger):
    from coop.shares.ledger import rebuild_balances
    from coop.shares.models import ShareBalance
    a, b = ledger.member(), ledger.member()
    ledger.done("subscribe", a, "land", amount_fen=1_000)
    ledger.done("transfer", a, to=b, kind="land", amount_fen=400)
    before = sorted((r.member_id, r.land_fen, r.total_fen) for r in
                    ledger.session.execute(select(ShareBalance)).scalars())
    rebuild_balances(ledger.session, ledger.coop.id)
    ledger.session.commit()
    ledger.session.expire_all()
    after = sorted((r.member_id, r.land_fen, r.total_fen) for r in
                   ledger.session.execute(select(ShareBalance)).scalars())
    assert before == after == [(a.id, 600, 600), (b.id, 400, 400)]


def test_back_dated_subscription_is_capped_on_every_later_date_from_the_changed_members(
        ledger, monkeypatch):
    """Six members hold capital throughout, so a back-dated subscription is checked from
    its member's lines and the capital per date alone (no walk of the whole register) —
    and still refused when it breaches the cap on a later date only."""
    from coop.shares import rules

    def whole_register_walk(*args):
        raise AssertionError("the whole register was walked")

    d0, d1, d2 = date(2024, 2, 1), date(2024, 3, 1), date(2024, 4, 1)
    members = [ledger.member() for _ in range(8)]
    for member in members:
        ledger.done("subscribe", member, amount_fen=100, on=d0)
    ledger.done("subscribe", members[0], amount_fen=70, on=d2)     # 170 of 870: 19.5 %
    monkeypatch.setattr(rules, "first_cap_breach", whole_register_walk)
    # 10 more on d1 is 110 of 810 then, but 180 of 880 = 20.45 % > 20 % from d2.
    op = ledger.submit("subscribe", members[0], amount_fen=10, on=d1)
    assert ledger.refused(ledger.approve, op) == "SINGLE_MEMBER_CAP_EXCEEDED"
    # 5 more: 175 of 875 on d2 is exactly 20 %, which the cap allows.
    ledger.done("subscribe", members[0], amount_fen=5, on=d1)
    assert member_totals_as_of(ledger.session, ledger.coop.id, d2)[members[0].id] == 175


def test_back_dated_capital_cut_walks_the_whole_register(ledger):
    """A back-dated redemption raises everyone else's share on every later date: the
    unchanged members can breach too, so the whole register is walked."""
    d0, d1, d2 = date(2024, 2, 1), date(2024, 3, 1), date(2024, 4, 1)
    members = [ledger.member() for _ in range(8)]
    for member in members:
        ledger.done("subscribe", member, amount_fen=100, on=d0)
    ledger.done("subscribe", members[0], amount_fen=60, on=d2)     # 160 of 860: 18.6 %
    # Member 7 taking 100 out on d1 leaves member 0 with 160 of 760 = 21.05 % from d2.
    assert ledger.refused(ledger.approve, ledger.submit(
        "redeem", members[7], amount_fen=100, on=d1)) == "SINGLE_MEMBER_CAP_EXCEEDED"
    ledger.done("redeem", members[7], amount_fen=50, on=d1)         # 160 of 810: 19.75 %
