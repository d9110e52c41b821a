"""Property: whatever the lines, every subtotal and the total in the files add up exactly."""
from __future__ import annotations

import csv
import io
from collections import Counter
from decimal import Decimal

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coop.money import parse_yuan
from coop.payouts.models import LINE_STATES, SOURCES, PayoutBatch, PayoutLine
from coop.reports.exporters import export
from coop.reports.payouts_report import payout_totals, report_rows, scope_of
from tests.conftest import empty_all_tables

YEAR = 2024
LINE = st.tuples(st.integers(0, 3),                 # cooperative 0..2, or 3 = county level
                 st.sampled_from(SOURCES), st.sampled_from(LINE_STATES),
                 st.integers(-10**9, 10**12))       # fen, reversals negative


def _setup(db, make, lines):
    empty_all_tables()
    county = make.county()
    towns = [make.town(county), make.town(county)]
    coops = [make.cooperative(make.village(towns[i % 2])) for i in range(3)]
    batch = PayoutBatch(county_id=county.id, source="distribution", source_id=1, year=YEAR,
                        line_count=len(lines), total_fen=sum(l[3] for l in lines))
    db.session.add(batch)
    db.session.flush()
    db.session.add_all([PayoutLine(
        batch_id=batch.id, county_id=county.id,
        cooperative_id=coops[c].id if c < 3 else None,
        town_id=coops[c].town_id if c < 3 else None, source=source, year=YEAR,
        payee_type="member", payee_name="张三", amount_fen=fen, status=status)
        for c, source, status, fen in lines])
    db.session.commit()
    return county, coops


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lines=st.lists(LINE, max_size=30))
def test_files_and_sql_totals_add_up_to_the_lines(db, make, lines):
    county, coops = _setup(db, make, lines)
    report = scope_of(db.session, "county", county, YEAR)
    expected_total = sum(l[3] for l in lines)
    by_coop = Counter()
    for c, _, _, fen in lines:
        by_coop[coops[c].name if c < 3 else ""] += fen

    totals = payout_totals(db.session, report)
    assert totals.total.total_fen == expected_total
    assert totals.total.line_count == len(lines)

    out = io.BytesIO()
    export("csv", report, report_rows(db.session, report, batch=7), out)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"), newline="")))
    amount = rows[0].index("金额（元）")
    assert [parse_yuan(r[amount]) for r in rows if r[0] == "合计"] == [expected_total]
    assert {r[2]: parse_yuan(r[amount]) for r in rows if r[0] == "合作社小计"} == {
        k: v for k, v in by_coop.items()}
    town_sums = [parse_yuan(r[amount]) for r in rows if r[0] == "乡镇小计"]
    assert sum(town_sums) == expected_total

    out = io.BytesIO()
    export("xlsx", report, report_rows(db.session, report, batch=7), out)
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["发放明细"]
    cells = [(r[0].value, r[amount].value) for r in sheet.iter_rows(min_row=2)]
    fen = [int(Decimal(str(v)) * 100) for kind, v in cells if kind == "明细"]
    assert sorted(fen) == sorted(l[3] for l in lines)
    assert [int(Decimal(str(v)) * 100) for kind, v in cells if kind == "合计"] == [expected_total]
