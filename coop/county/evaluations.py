"""Evaluations (考核): the organization, finance and agriculture departments each score a
cooperative for a year, and the county's reward rules for that year turn the scores
into a grade.

Grading rule (documented in the README):
* a score is a whole number of points 0..100, one per department;
* the grade is `pending` until all three departments have scored, or while the county
  has no reward rules for the year;
* otherwise, with A the average of the three scores: A ≥ excellent_min_score →
  `excellent`; A ≥ good_min_score → `good`; A ≥ pass_min_score → `pass`; else `fail`.
  The comparison is exact (sum ≥ threshold × 3, integers), so 89.67 is not 90.
The thresholds are fields of the county's rules, never constants here.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.models import DEPARTMENTS
import coop.audit as audit
from coop.county.guards import refuse_if_round_live
from coop.county.models import EvaluationScore, RewardRule
from coop.errors import ValidationFailed
from coop.registry.models import Cooperative
from coop.transaction import flush_or_conflict
from coop.validators import check_year


def grade(scores: list[int], rule: RewardRule | None) -> str:
    """The grade of one cooperative from its department scores under `rule`."""
    if rule is None or len(scores) < len(DEPARTMENTS):
        return "pending"
    total, count = sum(scores), len(scores)
    for name, minimum in (("excellent", rule.excellent_min_score),
                          ("good", rule.good_min_score),
                          ("pass", rule.pass_min_score)):
        if total >= minimum * count:
            return name
    return "fail"


def rule_for(session: Session, county_id: int, year: int) -> RewardRule | None:
    return session.execute(select(RewardRule).where(
        RewardRule.county_id == county_id, RewardRule.year == year)).scalar_one_or_none()


def set_score(session: Session, actor, coop: Cooperative, year: int, department: str,
              score: int, opinion: str) -> EvaluationScore:
    """Record (or replace) one department's score of a cooperative for a year.

    The caller has checked that `actor` is a reviewer of `department` in the county.
    Frozen while a reward round of that year is live (409).
    """
    check_year(year)
    if department not in DEPARTMENTS:
        raise ValidationFailed("部门不存在", errors={"department": list(DEPARTMENTS)})
    refuse_if_round_live(session, coop.county_id, year)
    row = session.execute(select(EvaluationScore).where(
        EvaluationScore.cooperative_id == coop.id, EvaluationScore.year == year,
        EvaluationScore.department == department)).scalar_one_or_none()
    before = None if row is None else {"score": row.score, "opinion": row.opinion,
                                       "reviewer_id": row.reviewer_id}
    if row is None:
        row = EvaluationScore(county_id=coop.county_id, cooperative_id=coop.id, year=year,
                              department=department, score=score, opinion=opinion,
                              reviewer_id=actor.id)
        session.add(row)
    else:
        row.score, row.opinion, row.reviewer_id = score, opinion, actor.id
    flush_or_conflict(session, "该部门的评分正在被同时提交，请重试")
    audit.record(session, actor, "evaluation.score", "cooperative", coop.id,
                 before=before, after={"year": year, "department": department,
                                       "score": score, "opinion": opinion})
    return row


def scores_by_cooperative(session: Session, county_id: int, year: int
                          ) -> dict[int, list[EvaluationScore]]:
    """Every score of the county's cooperatives for `year`, grouped by cooperative."""
    rows = session.execute(select(EvaluationScore).where(
        EvaluationScore.county_id == county_id, EvaluationScore.year == year)
        .order_by(EvaluationScore.cooperative_id, EvaluationScore.department)).scalars()
    grouped: dict[int, list[EvaluationScore]] = {}
    for row in rows:
        grouped.setdefault(row.cooperative_id, []).append(row)
    return grouped


def evaluation(session: Session, coop: Cooperative, year: int) -> dict:
    """The cooperative's scores for `year`, what is missing, and its grade."""
    check_year(year)
    rows = session.execute(select(EvaluationScore).where(
        EvaluationScore.cooperative_id == coop.id, EvaluationScore.year == year)
        .order_by(EvaluationScore.department)).scalars().all()
    rule = rule_for(session, coop.county_id, year)
    points = [r.score for r in rows]
    average = None
    if points:
        average = (Decimal(sum(points)) / len(points)).quantize(Decimal("0.01"),
                                                                 rounding=ROUND_HALF_UP)
    scored = {r.department for r in rows}
    return {
        "cooperative_id": coop.id, "year": year,
        "scores": rows,
        "missing_departments": [d for d in DEPARTMENTS if d not in scored],
        "average_score": average,
        "rules_set": rule is not None,
        "grade": grade(points, rule),
    }
