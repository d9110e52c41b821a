"""Paying an approved plan: approved → paid, with its payout batch (CONTRACT §6).

One batch per plan: the plan's conditional status change and the batch's unique key
(source, source_id, sequence) both refuse a second one (409). Each member's payout is
their line's total less what the assembly converted into capital (Art. 44). The village
collective's line is flagged (`is_collective`): the county shows it beside the village's
collective income, never added to it.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

import coop.audit as audit
from coop.distribution.models import DistributionLine, DistributionPlan, PlanStatus
from coop.dbtypes import utcnow
from coop.errors import Conflict
from coop.payouts.models import PayoutBatch
from coop.payouts.services import Payee, create_batch
from coop.registry.models import Cooperative, Member
from coop.transaction import transition


def pay_plan(session: Session, actor, plan: DistributionPlan) -> PayoutBatch:
    """Create the plan's payout batch (发放批次) and mark the plan paid."""
    if plan.status != PlanStatus.APPROVED:
        raise Conflict("只有已批准的方案才能生成发放批次")
    transition(session, plan, PlanStatus.APPROVED, "该方案已生成发放批次",
               status=PlanStatus.PAID, paid_at=utcnow())
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
    audit.record(session, actor, "distribution_plan.pay", "distribution_plan", plan.id,
                 before={"status": PlanStatus.APPROVED},
                 after={"status": PlanStatus.PAID, "payout_batch_id": batch.id})
    return batch
