"""Budgeted county programs (专项资金) and the atomic moves of money inside them.

Budget semantics: `committed_fen` is money approved but not yet paid, `disbursed_fen`
money paid, `available_fen = budget − committed − disbursed`. Every change of the two
counters is ONE conditional UPDATE whose WHERE clause states the invariant, so the
database decides a race: two approvals that each fit alone but not together cannot
both pass, on MariaDB (the row lock serialises them and the WHERE is re-read) and on
SQLite (writers are serialised). A CHECK constraint repeats the invariant.
"""
from __future__ import annotations

from sqlalchemy import func, update
from sqlalchemy.orm import Session

import coop.audit as audit
from coop.county.models import Program
from coop.errors import Conflict, RuleViolation, ValidationFailed
from coop.places.models import County
from coop.validators import check_year

BUDGET_EXCEEDED = "BUDGET_EXCEEDED"
# 四眼原则: the second pair of eyes on a money decision must be another person.
FOUR_EYES_REQUIRED = "FOUR_EYES_REQUIRED"


def create_program(session: Session, actor, county: County, name: str, year: int,
                   budget_fen: int, end_year: int | None = None,
                   per_recipient_cap_fen: int | None = None) -> Program:
    """Open a budgeted program for the county (e.g. 示范村每村每年 100 万元); a fund
    that runs several years ends in `end_year`; `per_recipient_cap_fen` caps what one
    cooperative is approved over the program."""
    check_year(year)
    if end_year is not None and end_year < year:
        raise ValidationFailed("结束年度不能早于开始年度", errors={"end_year": ["< year"]})
    program = Program(county_id=county.id, name=name, year=year, end_year=end_year,
                      budget_fen=budget_fen, per_recipient_cap_fen=per_recipient_cap_fen,
                      committed_fen=0, disbursed_fen=0, created_by=getattr(actor, "id", None))
    session.add(program)
    session.flush()
    audit.record(session, actor, "program.create", "program", program.id,
                 after={"name": name, "year": year, "end_year": end_year,
                        "budget_fen": budget_fen,
                        "per_recipient_cap_fen": per_recipient_cap_fen})
    return program


def open_programs(stmt, year: int):
    """Restrict a SELECT of programs to those accepting applications in `year` (China's
    calendar year): started, not ended, money left."""
    return stmt.where(Program.year <= year,
                      func.coalesce(Program.end_year, Program.year) >= year,
                      Program.committed_fen + Program.disbursed_fen < Program.budget_fen)


def program_of_county(session: Session, program_id: int, county_id: int) -> Program:
    """The program named in a request body; 422 unless it belongs to `county_id`."""
    program = session.get(Program, program_id)
    if program is None or program.county_id != county_id:
        raise ValidationFailed("专项资金不存在或不属于本县",
                               errors={"program_id": ["not a program of this county"]})
    return program


def reserve(session: Session, program_id: int, amount_fen: int) -> None:
    """Commit `amount_fen` of the program's budget, or 422 BUDGET_EXCEEDED.

    Runs in the caller's transaction; the caller rolls back on the error.
    """
    result = session.execute(
        update(Program)
        .where(Program.id == program_id,
               Program.committed_fen + Program.disbursed_fen + amount_fen <= Program.budget_fen)
        .values(committed_fen=Program.committed_fen + amount_fen)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise RuleViolation("专项资金预算不足，无法批准", code=BUDGET_EXCEEDED)


def mark_disbursed(session: Session, program_id: int, amount_fen: int) -> None:
    """Move `amount_fen` from committed to disbursed (it was reserved at approval)."""
    result = session.execute(
        update(Program)
        .where(Program.id == program_id, Program.committed_fen >= amount_fen)
        .values(committed_fen=Program.committed_fen - amount_fen,
                disbursed_fen=Program.disbursed_fen + amount_fen)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        # Only reachable if the counters were edited behind the application's back.
        raise Conflict("专项资金的已承诺金额与申请不一致")



def unmark_disbursed(session: Session, program_id: int, amount_fen: int) -> None:
    """Move `amount_fen` back from disbursed to committed: a paid line was reversed (冲正),
    and the money is owed again until its re-issue is paid.

    The invariant, after every step, for every program: committed + disbursed +
    available = budget, and disbursed = the paid lines of its batches net of reversals
    (tests/county/test_program_invariant.py checks it over random sequences)."""
    result = session.execute(
        update(Program)
        .where(Program.id == program_id, Program.disbursed_fen >= amount_fen)
        .values(committed_fen=Program.committed_fen + amount_fen,
                disbursed_fen=Program.disbursed_fen - amount_fen)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict("专项资金的已拨付金额与冲正不一致")
