"""The bank batch file (代发文件) of a payout batch: CSV, UTF-8 with BOM (Excel opens it
with the Chinese intact).

Columns: 户名 (name), 账号 (the FULL account number — decrypted here and nowhere else;
the route lets only a coop_manager fetch it), 开户行, 金额(元) with two decimals,
附言 (the reference the bank echoes back: year, batch and line ids, so each result can
be matched to its `line_id`). Only lines still `pending` are listed: the file is what
remains to be paid. Every download is audited.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

import coop.audit as audit
import coop.crypto as crypto
import coop.csvfile as csvfile
from coop.money import format_yuan
from coop.payouts.models import PayoutBatch, PayoutLine

COLUMNS = ("户名", "账号", "开户行", "金额(元)", "附言")


def reference(batch: PayoutBatch, line_id: int) -> str:
    return f"{batch.year}-B{batch.id}-L{line_id}"


def bank_file(session: Session, actor, batch: PayoutBatch) -> bytes:
    """The CSV bytes for the batch's pending lines; records the download."""
    lines = session.execute(
        select(PayoutLine.id, PayoutLine.payee_name, PayoutLine.bank_account_enc,
               PayoutLine.bank_name, PayoutLine.amount_fen)
        .where(PayoutLine.batch_id == batch.id, PayoutLine.status == "pending",
               PayoutLine.reverses_id.is_(None))
        .order_by(PayoutLine.id)).all()
    rows = [COLUMNS]
    for line in lines:
        account = crypto.decrypt(line.bank_account_enc) if line.bank_account_enc else ""
        rows.append((line.payee_name, account, line.bank_name,
                     format_yuan(line.amount_fen), reference(batch, line.id)))
    audit.record(session, actor, "payout_batch.bank_file", "payout_batch", batch.id,
                 after={"lines": len(lines), "total_fen": sum(x.amount_fen for x in lines)})
    # The one CSV writer: formulas neutralised in every cell, UTF-8 with BOM, CRLF.
    return csvfile.to_bytes(rows)
