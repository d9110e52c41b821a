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
from functools import lru_cache

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from auth.policy import scope_clause
import coop.audit as audit
from coop.county.models import ApplicationStatus as Status
from coop.county.models import Program, SubsidyApplication
from coop.county.programs import (FOUR_EYES_REQUIRED, mark_disbursed, program_of_county,
                                  reserve)
from coop.dbtypes import utcnow
from coop.errors import Forbidden, RuleViolation, ValidationFailed
from coop.pagination import PageQuery
from coop.payouts.models import BatchStatus, LineStatus, PayoutLine
from coop.payouts.services import Payee, create_batch
from coop.registry.models import Cooperative
from coop.transaction import transition
from coop.validators import check_past_date

CONFLICT = "申请当前状态不允许此操作"


def _snapshot(app: SubsidyApplication) -> dict:
    return {"status": app.status, "amount_fen": app.amount_fen, "program_id": app.program_id,
            "approved_amount_fen": app.approved_amount_fen}


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


def approve_application(session: Session, actor, app: SubsidyApplication,
                        amount_fen: int | None = None) -> SubsidyApplication:
    """Approve all of it, or `amount_fen` ≤ the amount applied for, and reserve that
    (422 BUDGET_EXCEEDED if it does not fit; RECIPIENT_CAP_EXCEEDED over the program's
    per-cooperative cap). Four eyes: never by the user who submitted it (403)."""
    if app.created_by == actor.id:
        raise Forbidden("申请人不能批准自己提交的申请，须由另一名财政人员批准",
                        code=FOUR_EYES_REQUIRED)
    granted = app.amount_fen if amount_fen is None else amount_fen
    if granted > app.amount_fen:
        raise ValidationFailed("批准金额不能超过申请金额",
                               errors={"amount_fen": [f"≤ {app.amount_fen}"]})
    before = _snapshot(app)
    # The state guard first: it locks the application row, then the program row is
    # locked by the reservation — the same order in every transaction, so no deadlock.
    transition(session, app, Status.SUBMITTED, CONFLICT, status=Status.APPROVED,
               approved_by=actor.id, approved_at=utcnow(), approved_amount_fen=granted)
    reserve(session, app.program_id, granted)
    _check_recipient_cap(session, app)
    audit.record(session, actor, "subsidy_application.approve", "subsidy_application", app.id,
                 before=before, after={**before, "status": Status.APPROVED,
                                       "approved_amount_fen": granted})
    return app


def _check_recipient_cap(session: Session, app: SubsidyApplication) -> None:
    """What the cooperative has been granted over the program, this one included, stays
    within the program's per-recipient cap. Runs after the reservation has locked the
    program row, so two approvals for one cooperative are judged one after the other."""
    program = session.get(Program, app.program_id)
    if program.per_recipient_cap_fen is None:
        return
    granted = session.execute(select(func.coalesce(func.sum(
        SubsidyApplication.approved_amount_fen), 0)).where(
        SubsidyApplication.program_id == app.program_id,
        SubsidyApplication.cooperative_id == app.cooperative_id,
        SubsidyApplication.status.in_((Status.APPROVED, Status.DISBURSED)))
        .with_for_update()).scalar_one()
    if granted > program.per_recipient_cap_fen:
        raise RuleViolation(
            f"该合作社在本专项资金中获批总额不能超过 {program.per_recipient_cap_fen} 分",
            code="RECIPIENT_CAP_EXCEEDED",
            errors={"amount_fen": [f"cap {program.per_recipient_cap_fen}, granted {granted}"]})


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
    if not coop.bank_account_enc:
        # The line would be held: a payment to no account cannot have been made.
        raise RuleViolation("合作社未登记基本存款账户，不能记为已拨付",
                            code="BANK_ACCOUNT_MISSING",
                            errors={"cooperative_id": ["PATCH /cooperatives/{id} bank_account"]})
    granted = app.approved_amount_fen or app.amount_fen
    mark_disbursed(session, app.program_id, granted)
    batch = create_batch(session, actor, county_id=app.county_id, cooperative_id=coop.id,
                         source="subsidy", source_id=app.id, year=paid_on.year,
                         payees=[Payee(payee_type="cooperative", payee_name=coop.name,
                                       amount_fen=granted, cooperative_id=coop.id,
                                       town_id=coop.town_id, bank_name=coop.bank_name,
                                       bank_account_enc=coop.bank_account_enc,
                                       bank_account_masked=coop.bank_account_masked)])
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


def applications_page(session: Session, county_id: int | None, status: str | None,
                      scope: tuple, page: int, per_page: int) -> dict:
    """GET /subsidy-applications: a page of the applications in `scope` (the caller's,
    `auth.policy.scope_of`), newest first, as rows."""
    attrs, ids = scope
    query = _applications(county_id is not None, status is not None, attrs)
    result = query.page(session, page, per_page,
                        {"county_id": county_id, "status": status, **ids})
    result["items"] = [row._asdict() for row in result["items"]]
    return result


# What the list shows: every column but the row's own bookkeeping.
LISTED = tuple(column for column in SubsidyApplication.__table__.columns
               if column.key != "updated_at")


@lru_cache(maxsize=None)
def _applications(by_county: bool, by_status: bool, scope_attrs) -> PageQuery:
    """The list's statements for one shape of its filters and scope, built once."""
    stmt = select(*LISTED).order_by(SubsidyApplication.id.desc())
    if by_county:
        stmt = stmt.where(SubsidyApplication.county_id == bindparam("county_id"))
    if by_status:
        stmt = stmt.where(SubsidyApplication.status == bindparam("status"))
    if scope_attrs is not None:
        stmt = stmt.where(scope_clause(SubsidyApplication, scope_attrs))
    return PageQuery(stmt, rows=True)
