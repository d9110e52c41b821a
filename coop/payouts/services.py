"""Creating payout batches. Used by distributions, reward rounds and subsidies alike."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, exists, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

import coop.audit as audit
from coop.errors import Conflict
from coop.payouts.models import LineStatus, PayoutBatch, PayoutLine
from coop.transaction import flush_or_conflict


@dataclass(frozen=True)
class Payee:
    """One line to pay. `bank_account_enc`/`_masked` come from the payee's record."""

    payee_type: str              # member | cooperative | secretary | manager
    payee_name: str
    amount_fen: int
    cooperative_id: int | None = None
    town_id: int | None = None
    member_id: int | None = None
    bank_name: str | None = None
    bank_account_enc: str | None = None
    bank_account_masked: str | None = None
    is_collective: bool = False
    reissue_of_id: int | None = None


def create_batch(session: Session, actor, *, county_id: int, cooperative_id: int | None,
                 source: str, source_id: int, year: int, payees: list[Payee],
                 sequence: int = 0) -> PayoutBatch:
    """Write a batch and its lines in the caller's transaction (the caller commits).

    At most one batch per (source, source_id, sequence): the unique key decides a race,
    and the loser gets 409 STATE_CONFLICT. Zero-amount payees are not written. A payee
    without a bank account is written `held`: out of the bank file, refused as paid,
    until PATCH /payout-lines/{id} gives it an account (settlement.fix_account).
    """
    payees = [p for p in payees if p.amount_fen]
    batch = PayoutBatch(county_id=county_id, cooperative_id=cooperative_id, source=source,
                        source_id=source_id, sequence=sequence, year=year, status="open",
                        line_count=len(payees), total_fen=sum(p.amount_fen for p in payees),
                        created_by=getattr(actor, "id", None))
    session.add(batch)
    flush_or_conflict(session, Conflict("该对象已生成发放批次"))
    if payees:
        # One bulk INSERT of plain rows, no ORM objects: a plan's batch has 5,000 lines,
        # and nothing here reads them back as objects (callers select what they need).
        # A re-issue racing another one of the same lines loses on reissue_of_id's unique
        # key: that is the same 409 (and the driver's error, which quotes the rows'
        # names and accounts, never reaches the log).
        rows = [dict(
            batch_id=batch.id, county_id=county_id,
            cooperative_id=p.cooperative_id if p.cooperative_id is not None else cooperative_id,
            town_id=p.town_id, member_id=p.member_id, source=source, year=year,
            payee_type=p.payee_type, payee_name=p.payee_name, bank_name=p.bank_name,
            bank_account_enc=p.bank_account_enc, bank_account_masked=p.bank_account_masked,
            amount_fen=p.amount_fen, is_collective=p.is_collective,
            status=LineStatus.PENDING if p.bank_account_enc else LineStatus.HELD,
            reissue_of_id=p.reissue_of_id) for p in payees]
        try:
            session.execute(insert(PayoutLine), rows)
        except IntegrityError as exc:
            raise Conflict("这些发放行已在补发，请刷新后查看") from exc
    audit.record(session, actor, "payout_batch.create", "payout_batch", batch.id,
                 after={"source": source, "source_id": source_id, "sequence": sequence,
                        "line_count": batch.line_count, "total_fen": batch.total_fen})
    return batch


def batch_for(session: Session, source: str, source_id: int) -> PayoutBatch | None:
    return session.execute(select(PayoutBatch).where(
        PayoutBatch.source == source, PayoutBatch.source_id == source_id,
        PayoutBatch.sequence == 0)).scalar_one_or_none()


TOTAL_FIELDS = ("issued_fen", "paid_fen", "failed_fen", "pending_fen", "held_fen",
                "reversed_fen")


def totals(session: Session, *where) -> dict[str, int]:
    """Money of the payout lines matching `where`, each figure meaning one thing:

    * issued_fen — what was put to pay: every line but reversals, except a line that a
      re-issue replaced (the re-issue counts instead: a re-issued line counts once);
    * paid_fen (实发) — paid lines less their reversals;
    * failed_fen — failed lines not re-issued; pending_fen, held_fen — lines in that state;
    * reversed_fen — money paid and reversed (冲正), as a positive figure.
    """
    again = aliased(PayoutLine)
    replaced = exists().where(again.reissue_of_id == PayoutLine.id)
    original = PayoutLine.reverses_id.is_(None)

    def total(condition):
        return func.coalesce(func.sum(case((condition, PayoutLine.amount_fen), else_=0)), 0)

    row = session.execute(select(
        total(original & ~replaced),
        total(PayoutLine.status == LineStatus.PAID) + total(~original),
        total((PayoutLine.status == LineStatus.FAILED) & ~replaced),
        total(PayoutLine.status == LineStatus.PENDING),
        total(PayoutLine.status == LineStatus.HELD),
        -total(~original)).where(*where)).one()
    return dict(zip(TOTAL_FIELDS, (int(x) for x in row)))


def with_totals(session: Session, batch: PayoutBatch) -> PayoutBatch:
    """The batch with its totals (see `totals`) as attributes for its response."""
    for name, value in totals(session, PayoutLine.batch_id == batch.id).items():
        setattr(batch, name, value)
    return batch
