"""After a batch is sent to the bank: results, reversals, re-issues (CONTRACT §6).

Lines are never edited after payment. A bank result moves a `pending` line to `paid` or
`failed` once (a conditional UPDATE, so two imports cannot both settle it). A reversal is
a new line with the negative amount that `reverses_id` the paid one (status
`reversed`). Failed lines, and paid lines that were reversed, are paid again in a
follow-up batch of the same source (`sequence` + 1) whose lines carry `reissue_of_id`,
with the payee's bank details read afresh from the member record (the usual reason for a
failure is a wrong account). Unique keys on `reverses_id` and `reissue_of_id` make each
happen at most once.
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import bindparam, exists, func, select, update
from sqlalchemy.orm import Session, aliased

import coop.audit as audit
import coop.clock as clock
from coop.dbtypes import utcnow
from coop.errors import Conflict, RuleViolation, ValidationFailed
from coop.payouts.models import LineStatus, PayoutBatch, PayoutLine
from coop.payouts.services import Payee, create_batch
import coop.registry.people as people
from coop.registry.models import Member
from coop.transaction import flush_or_conflict, transition
from coop.validators import past_date_problem


# What paid money means to the layer that made the batch (a reward round's program
# moves it from committed to disbursed): hook(session, source_id, paid_fen), by source,
# registered by that layer at app creation.
ON_PAID: dict[str, Callable[[Session, int, int], None]] = {}
# What a reversal means to that layer: hook(session, source_id, reversed_fen) — the money
# is owed again (a reward round's program moves it back from disbursed to committed).
ON_REVERSED: dict[str, Callable[[Session, int, int], None]] = {}

BANK_ACCOUNT_MISSING = "BANK_ACCOUNT_MISSING"

_LINES = PayoutLine.__table__
_RESULT_UPDATE = (update(_LINES)
                  .where(_LINES.c.id == bindparam("line"), _LINES.c.status == "pending")
                  .values(status=bindparam("new_status"), bank_ref=bindparam("ref"),
                          paid_on=bindparam("paid"), reason=bindparam("why")))


def record_results(session: Session, actor, batch: PayoutBatch, results: list[dict],
                   today) -> PayoutBatch:
    """Import the bank's answers [{line_id, status: paid|failed, bank_ref, paid_on,
    reason?}] — all or none (422 with errors keyed by position). Repeating a result
    already recorded is a no-op; contradicting it is an error. The batch closes when no
    line is pending any more."""
    ids = [r["line_id"] for r in results]
    lines = {line.id: line for line in session.execute(
        select(PayoutLine).where(PayoutLine.batch_id == batch.id,
                                 PayoutLine.id.in_(ids))).scalars()}
    errors: dict[str, list[str]] = {}
    todo = []
    for i, result in enumerate(results):
        problem = _result_problem(result, lines.get(result["line_id"]), ids, batch, today)
        if problem:
            errors[str(i)] = [problem]
        elif lines[result["line_id"]].status == "pending":
            todo.append(result)
    if errors:
        held = [i for i, r in enumerate(results)
                if getattr(lines.get(r["line_id"]), "status", None) == "held"]
        if held:
            # A held line was never in a bank file: it cannot have been paid.
            raise RuleViolation("收款人无银行账号的发放行（暂缓）不能记为已支付，未记录任何一行",
                                code=BANK_ACCOUNT_MISSING, errors=errors)
        raise ValidationFailed("发放结果有误，未记录任何一行", errors=errors)
    # One executemany for the whole bank file (5,000 lines of a plan), not a statement
    # per line; every line must still be pending, or another import got there first.
    changed = session.execute(_RESULT_UPDATE.values(updated_at=utcnow()), [dict(
        line=r["line_id"], new_status=r["status"], ref=r.get("bank_ref"),
        paid=r.get("paid_on") if r["status"] == "paid" else None, why=r.get("reason"))
        for r in todo]).rowcount if todo else 0
    if changed != len(todo):
        raise Conflict("发放结果正被同时录入，请刷新后重试")
    paid_fen = sum(lines[r["line_id"]].amount_fen for r in todo if r["status"] == "paid")
    if paid_fen and batch.source in ON_PAID:
        ON_PAID[batch.source](session, batch.source_id, paid_fen)
    pending = session.execute(select(func.count()).where(
        PayoutLine.batch_id == batch.id, PayoutLine.status == "pending")).scalar_one()
    if not pending:
        session.execute(update(PayoutBatch).where(PayoutBatch.id == batch.id)
                        .values(status="closed").execution_options(synchronize_session=False))
    audit.record(session, actor, "payout_batch.results", "payout_batch", batch.id,
                 after={"paid": [r["line_id"] for r in todo if r["status"] == "paid"],
                        "failed": [r["line_id"] for r in todo if r["status"] == "failed"]})
    session.flush()
    session.refresh(batch)
    return batch


def _result_problem(result: dict, line: PayoutLine | None, ids: list[int],
                    batch: PayoutBatch, today) -> str | None:
    if line is None:
        return "该发放行不属于本批次"
    if ids.count(result["line_id"]) > 1:
        return "同一发放行只能出现一次"
    if line.reverses_id is not None:
        return "冲正行没有银行结果"
    if line.status == "held":
        return "收款人无银行账号，该行暂缓发放，须先补录账号"
    if result["status"] == "paid":
        if not result.get("bank_ref") or result.get("paid_on") is None:
            return "已支付须填写银行流水号和支付日期"
        if (past_date_problem(result["paid_on"], today) is not None
                or result["paid_on"] < clock.china_time(batch.created_at).date()):
            return "支付日期须在批次生成之后、且不晚于今天"
    if line.status != "pending":
        same = (line.status == result["status"]
                and (line.bank_ref or None) == (result.get("bank_ref") or None)
                and (line.status != "paid" or line.paid_on == result.get("paid_on")))
        return None if same else f"该发放行已有结果（{line.status}），不能更改"
    return None


def reverse_line(session: Session, actor, line: PayoutLine, reason: str,
                 today) -> PayoutLine:
    """冲正: a new line with the negative amount that reverses a paid line; the paid line
    itself is not touched. 409 unless the line is paid and not yet reversed."""
    if line.reverses_id is not None or line.status != "paid":
        raise Conflict("只有已支付的发放行才能冲正")
    reversal = PayoutLine(
        batch_id=line.batch_id, county_id=line.county_id, cooperative_id=line.cooperative_id,
        town_id=line.town_id, member_id=line.member_id, source=line.source, year=line.year,
        payee_type=line.payee_type, payee_name=line.payee_name, bank_name=line.bank_name,
        bank_account_enc=line.bank_account_enc, bank_account_masked=line.bank_account_masked,
        amount_fen=-line.amount_fen, is_collective=line.is_collective, status="reversed",
        paid_on=today, reverses_id=line.id, reason=reason)
    session.add(reversal)
    flush_or_conflict(session, Conflict("该发放行已冲正"))
    batch = session.get(PayoutBatch, line.batch_id)
    if batch.source in ON_REVERSED:
        ON_REVERSED[batch.source](session, batch.source_id, line.amount_fen)
    audit.record(session, actor, "payout_line.reverse", "payout_line", line.id,
                 after={"reversal_id": reversal.id, "amount_fen": reversal.amount_fen,
                        "reason": reason})
    return reversal


def reissue(session: Session, actor, batch: PayoutBatch) -> PayoutBatch:
    """补发: a follow-up batch paying again every failed line of `batch`, and every paid
    line of it that was reversed, not re-issued yet. 422 NOTHING_TO_REISSUE if none."""
    reversal, again = aliased(PayoutLine), aliased(PayoutLine)
    due = session.execute(
        select(PayoutLine, Member.bank_name, Member.bank_account_enc,
               Member.bank_account_masked)
        .outerjoin(Member, Member.id == PayoutLine.member_id)
        .where(PayoutLine.batch_id == batch.id, PayoutLine.reverses_id.is_(None),
               (PayoutLine.status == "failed")
               | exists().where(reversal.reverses_id == PayoutLine.id),
               ~exists().where(again.reissue_of_id == PayoutLine.id))
        .order_by(PayoutLine.id)).all()
    if not due:
        raise RuleViolation("本批次没有需要补发的发放行", code="NOTHING_TO_REISSUE")
    payees = [Payee(payee_type=line.payee_type, payee_name=line.payee_name,
                    amount_fen=line.amount_fen, cooperative_id=line.cooperative_id,
                    town_id=line.town_id, member_id=line.member_id,
                    bank_name=bank_name if line.member_id else line.bank_name,
                    bank_account_enc=enc if line.member_id else line.bank_account_enc,
                    bank_account_masked=masked if line.member_id else line.bank_account_masked,
                    is_collective=line.is_collective, reissue_of_id=line.id)
              for line, bank_name, enc, masked in due]
    sequence = session.execute(select(func.max(PayoutBatch.sequence)).where(
        PayoutBatch.source == batch.source,
        PayoutBatch.source_id == batch.source_id)).scalar_one() + 1
    follow_up = create_batch(session, actor, county_id=batch.county_id,
                             cooperative_id=batch.cooperative_id, source=batch.source,
                             source_id=batch.source_id, year=batch.year, payees=payees,
                             sequence=sequence)
    flush_or_conflict(session, Conflict("这些发放行已在补发"))
    audit.record(session, actor, "payout_batch.reissue", "payout_batch", batch.id,
                 after={"follow_up_batch_id": follow_up.id,
                        "lines": [line.id for line, *_ in due]})
    return follow_up


def fix_account(session: Session, actor, line: PayoutLine, bank_name: str,
                bank_account: str) -> PayoutLine:
    """PATCH /payout-lines/{id}: give a held or failed line the payee's (right) account;
    the line is pending again and goes into the batch's next bank file. A failed line
    already re-issued in a follow-up batch is 409 (that batch pays it)."""
    account = people.compact(bank_account)
    problems = people.bank_problems(bank_name, account)
    if problems:
        raise ValidationFailed("银行账号有误", errors={k: [v] for k, v in problems.items()})
    again = aliased(PayoutLine)
    if line.reverses_id is not None or session.execute(
            select(exists().where(again.reissue_of_id == line.id))).scalar():
        raise Conflict("该发放行已冲正或已补发，不能修改账号")
    before = {"status": line.status, "bank_name": line.bank_name,
              "bank_account_masked": line.bank_account_masked}
    columns = people.bank_account_columns(account)
    transition(session, line, (LineStatus.HELD, LineStatus.FAILED),
               "只有暂缓或支付失败的发放行可以补录账号", status=LineStatus.PENDING,
               bank_name=bank_name, bank_account_enc=columns["bank_account_enc"],
               bank_account_masked=columns["bank_account_masked"], bank_ref=None,
               paid_on=None, updated_at=utcnow())
    # The batch has a line to pay again: it is open until a result settles it.
    session.execute(update(PayoutBatch).where(PayoutBatch.id == line.batch_id)
                    .values(status="open").execution_options(synchronize_session=False))
    audit.record(session, actor, "payout_line.account_fix", "payout_line", line.id,
                 before=before, after={"status": LineStatus.PENDING, "bank_name": bank_name,
                                       "bank_account_masked": line.bank_account_masked})
    return line
