"""Paying an approved plan: approved → paid, with its payout batch (CONTRACT §6).

One batch per plan: the plan's conditional status change and the batch's unique key
(source, source_id, sequence) both refuse a second one (409). Each member's payout is
their line's total less what the assembly converted into capital (Art. 44). The village
collective's line is flagged and its whole distribution is recorded as that year's
village collective income (the county's reward basis), against its payout line.
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from coop import audit
from coop.county.income import add_distribution_income
from coop.distribution.models import DistributionLine, DistributionPlan
from coop.dbtypes import utcnow
from coop.errors import Conflict
from coop.payouts.models import PayoutBatch, PayoutLine
from coop.payouts.services import Payee, create_batch
from coop.places.models import Village
from coop.registry.models import Cooperative, Member


def pay_plan(session: Session, actor, plan: DistributionPlan) -> PayoutBatch:
    """Create the plan's payout batch (发放批次) and mark the plan paid; commits."""
    if plan.status != "approved":
        raise Conflict("只有已批准的方案才能生成发放批次")
    changed = session.execute(
        update(DistributionPlan)
        .where(DistributionPlan.id == plan.id, DistributionPlan.status == "approved")
        .values(status="paid", paid_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        session.rollback()
        raise Conflict("该方案已生成发放批次")
    coop = session.get(Cooperative, plan.cooperative_id)
    rows = session.execute(
        select(DistributionLine.member_id, DistributionLine.total_fen,
               DistributionLine.convert_fen, DistributionLine.is_collective, Member.name,
               Member.bank_name, Member.bank_account_enc, Member.bank_account_masked)
        .join(Member, Member.id == DistributionLine.member_id)
        .where(DistributionLine.plan_id == plan.id)
        .order_by(DistributionLine.member_id)).all()
    payees = [Payee(payee_type="member", payee_name=r.name, amount_fen=r.total_fen - r.convert_fen,
                    cooperative_id=coop.id, town_id=coop.town_id, member_id=r.member_id,
                    bank_name=r.bank_name, bank_account_enc=r.bank_account_enc,
                    bank_account_masked=r.bank_account_masked, is_collective=r.is_collective)
              for r in rows]
    batch = create_batch(session, actor, county_id=plan.county_id, cooperative_id=coop.id,
                         source="distribution", source_id=plan.id, year=plan.year,
                         payees=payees)
    session.flush()
    audit.record(session, actor, "distribution_plan.pay", "distribution_plan", plan.id,
                 before={"status": "approved"},
                 after={"status": "paid", "payout_batch_id": batch.id})
    collective_totals = {r.member_id: r.total_fen for r in rows if r.is_collective}
    if collective_totals:
        village = session.get(Village, coop.village_id)
        for line_id, member_id in session.execute(
                select(PayoutLine.id, PayoutLine.member_id)
                .where(PayoutLine.batch_id == batch.id, PayoutLine.is_collective)).all():
            add_distribution_income(session, actor, village, plan.year,
                                    collective_totals[member_id], line_id)
    session.commit()
    return batch
