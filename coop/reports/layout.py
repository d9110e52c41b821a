"""The payout report's table, shared by every format: columns, labels, the cells of a line
and of a subtotal, and the summary rows (amounts in fen; each writer formats them)."""
from __future__ import annotations

from decimal import Decimal

from coop.reports.payouts_report import (MONEY_LABELS, PAYEE_LABELS, SCOPE_LABELS,
                                         SOURCE_LABELS, STATUS_LABELS, ReportScope, Subtotal)

HEADERS = ("类别", "乡镇（街道）", "合作社", "资金来源", "批次号", "明细号", "收款人类型",
           "收款人", "开户行", "银行账号（脱敏）", "金额（元）", "状态", "银行流水号",
           "支付日期", "冲正原明细号")
AMOUNT_COL = HEADERS.index("金额（元）")
DATE_COL = HEADERS.index("支付日期")
ID_COLS = tuple(HEADERS.index(h) for h in ("批次号", "明细号", "冲正原明细号"))
WIDTHS = (10, 14, 24, 10, 8, 10, 12, 14, 14, 22, 16, 10, 22, 12, 12)
SUBTOTAL_LABELS = {"cooperative": "合作社小计", "town": "乡镇小计", "total": "合计"}
COUNTY_LEVEL = "县级"


def yuan(fen: int) -> Decimal:
    """fen → yuan as an exact Decimal with two places (123450 → Decimal('1234.50'))."""
    return Decimal(int(fen)).scaleb(-2)


def line_cells(row) -> list:
    """A line's cells with the amount as integer fen (each writer converts it)."""
    return ["明细", row.town_name or COUNTY_LEVEL, row.cooperative_name or "",
            SOURCE_LABELS.get(row.source, row.source), row.batch_id, row.id,
            PAYEE_LABELS.get(row.payee_type, row.payee_type), row.payee_name,
            row.bank_name or "", row.bank_account_masked or "", int(row.amount_fen),
            STATUS_LABELS.get(row.status, row.status), row.bank_ref or "", row.paid_on,
            row.reverses_id]


def subtotal_cells(sub: Subtotal) -> list:
    cells = [""] * len(HEADERS)
    cells[0] = SUBTOTAL_LABELS[sub.level]
    if sub.level != "total":
        cells[1] = sub.town_name or COUNTY_LEVEL
    if sub.level == "cooperative":
        cells[2] = sub.cooperative_name or ""
    cells[HEADERS.index("收款人")] = f"共{sub.line_count}笔"
    cells[AMOUNT_COL] = sub.total_fen
    return cells


def summary_rows(report: ReportScope, total: Subtotal) -> list[tuple[str, str, int | None]]:
    """(label, count text, fen) rows of the summary: by source, by status, grand total."""
    scope = f"{SCOPE_LABELS[report.scope]}：{report.name}（{report.year}年）"
    rows = [("报表", report.title, None), ("范围", scope, None)]
    for source, bucket in total.by_source.items():
        rows.append((f"来源：{SOURCE_LABELS.get(source, source)}",
                     f"{bucket['line_count']}笔", bucket["total_fen"]))
    for status, bucket in total.by_status.items():
        rows.append((f"状态：{STATUS_LABELS.get(status, status)}",
                     f"{bucket['line_count']}笔", bucket["total_fen"]))
    for name, label in MONEY_LABELS.items():
        if total.money is not None:
            rows.append((label, "与发放批次一致", total.money[name]))
    rows.append(("合计", f"{total.line_count}笔（含冲正）", total.total_fen))
    return rows


def no_progress() -> None:
    return None
