"""Subsidy applications (补助申请) paid from budgeted programs.

submitted → approved → disbursed, or submitted → rejected. Every transition is a
state-guarded UPDATE (… WHERE status = 'submitted'), so of two finance users acting
on one application at once exactly one wins and the other gets 409 STATE_CONFLICT.
Approval reserves the amount atomically (coop/county/programs.py); disbursement,
by a different county_finance user than the approver (四眼原则), moves it from
committed to disbursed and writes a payout batch with one line (source "subsidy").
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

import coop.audit as audit
from coop.county.models import ApplicationStatus as Status
from coop.county.models import SubsidyApplication
from coop.county.programs import (FOUR_EYES_REQUIRED, mark_disbursed, program_of_county,
                                  reserve)
from coop.dbtypes import utcnow
from coop.errors import Forbidden
from coop.payouts.models import BatchStatus, LineStatus, PayoutLine
from coop.payouts.services import Payee, create_batch
from coop.registry.models import Cooperative
from coop.transaction import transition
from coop.validators import check_past_date

CONFLICT = "申请当前状态不允许此操作"


def _snapshot(app: SubsidyApplication) -> dict:
    return {"status": app.status, "amount_fen": app.amount_fen, "program_id": app.program_id}


def submit_application(session: Session, actor, coop: Cooperative, program_id: int,
                       amount_fen: int, purpose: str) -> SubsidyApplication:
    """A cooperative applies for `amount_fen` from a program of its own county."""
    program = program_of_county(session, program_id, coop.county_id)
    app = SubsidyApplication(county_id=coop.county_id, cooperative_id=coop.id,
                             program_id=program.id, amount_fen=amount_fen, purpose=purpose,
                             status=Status.SUBMITTED, created_by=actor.id)
    session.add(app)
    session.flush()
    audit.record(session, actor, "subsidy_application.submit", "subsidy_application", app.id,
                 after={**_snapshot(app), "purpose": purpose, "cooperative_id": coop.id})
    return app


def approve_application(session: Session, actor, app: SubsidyApplication) -> SubsidyApplication:
    """Approve and reserve the budget (422 BUDGET_EXCEEDED if it does not fit)."""
    before = _snapshot(app)
    # The state guard first: it locks the application row, then the program row is
    # locked by the reservation — the same order in every transaction, so no deadlock.
    transition(session, app, Status.SUBMITTED, CONFLICT, status=Status.APPROVED,
               approved_by=actor.id, approved_at=utcnow())
    reserve(session, app.program_id, app.amount_fen)
    audit.record(session, actor, "subsidy_application.approve", "subsidy_application", app.id,
                 before=before, after={**before, "status": Status.APPROVED})
    return app


def reject_application(session: Session, actor, app: SubsidyApplication,
                       reason: str) -> SubsidyApplication:
    """Refuse a submitted application, with the reason the cooperative will see."""
    before = _snapshot(app)
    transition(session, app, Status.SUBMITTED, CONFLICT, status=Status.REJECTED,
               rejected_by=actor.id, reject_reason=reason)
    audit.record(session, actor, "subsidy_application.reject", "subsidy_application", app.id,
                 before=before, after={**before, "status": Status.REJECTED, "reason": reason})
    return app


def disburse_application(session: Session, actor, app: SubsidyApplication, paid_on: date,
                         bank_ref: str) -> SubsidyApplication:
    """Record the payment of an approved application (拨付).

    Four eyes: the disburser must not be the approver (403 FOUR_EYES_REQUIRED). The
    payout batch line is written as already paid, with the bank's reference.
    """
    check_past_date(paid_on, "paid_on", "拨付日期")
    if app.approved_by == actor.id:
        raise Forbidden("批准人不能同时办理拨付，须由另一名财政人员办理",
                        code=FOUR_EYES_REQUIRED)
    before = _snapshot(app)
    transition(session, app, Status.APPROVED, CONFLICT, status=Status.DISBURSED,
               disbursed_by=actor.id, paid_on=paid_on, bank_ref=bank_ref)
    coop = session.get(Cooperative, app.cooperative_id)
    mark_disbursed(session, app.program_id, app.amount_fen)
    batch = create_batch(session, actor, county_id=app.county_id, cooperative_id=coop.id,
                         source="subsidy", source_id=app.id, year=paid_on.year,
                         payees=[Payee(payee_type="cooperative", payee_name=coop.name,
                                       amount_fen=app.amount_fen, cooperative_id=coop.id,
                                       town_id=coop.town_id)])
    # The county has already transferred the money: the line is paid, the batch closed.
    session.execute(update(PayoutLine).where(PayoutLine.batch_id == batch.id)
                    .values(status=LineStatus.PAID, paid_on=paid_on, bank_ref=bank_ref,
                            updated_at=utcnow()))
    batch.status = BatchStatus.CLOSED
    app.payout_batch_id = batch.id
    audit.record(session, actor, "subsidy_application.disburse", "subsidy_application",
                 app.id, before=before,
                 after={**before, "status": Status.DISBURSED, "paid_on": paid_on,
                        "bank_ref": bank_ref, "payout_batch_id": batch.id})
    return app


def applications_query(county_id: int | None, status: str | None):
    """The SELECT behind GET /subsidy-applications (the route adds the caller's scope)."""
    stmt = select(SubsidyApplication).order_by(SubsidyApplication.id.desc())
    if county_id is not None:
        stmt = stmt.where(SubsidyApplication.county_id == county_id)
    if status is not None:
        stmt = stmt.where(SubsidyApplication.status == status)
    return stmt
