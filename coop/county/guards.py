"""Preconditions shared by the county use cases: the years accepted, the freeze a live
reward round puts on a year, and turning a lost insert race into 409."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coop.county.models import RewardRound
from coop.errors import Conflict, ValidationFailed

MIN_YEAR = 2000
MAX_YEAR = 2100


def check_year(year: int) -> None:
    """Refuse a year outside MIN_YEAR..MAX_YEAR (422), so a typo never becomes data."""
    if not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed("年度超出范围", errors={"year": [f"{MIN_YEAR}..{MAX_YEAR}"]})


def live_round(session: Session, county_id: int, year: int) -> RewardRound | None:
    """The county's draft or approved reward round for `year`, if any."""
    return session.execute(select(RewardRound).where(
        RewardRound.county_id == county_id, RewardRound.live_year == year)).scalar_one_or_none()


def refuse_if_round_live(session: Session, county_id: int, year: int) -> None:
    """Scores and rules of a year are frozen while a round for it is draft or approved:
    the round was computed from them (cancel or reject the draft to change them)."""
    if live_round(session, county_id, year) is not None:
        raise Conflict("该年度已有奖励轮次（草稿或已批准），不能再修改考核或奖励规则")


def flush_or_conflict(session: Session, detail: str) -> None:
    """Flush; if a unique key refuses the row (a concurrent request wrote it first),
    roll back and answer 409 STATE_CONFLICT instead of a 500."""
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(detail) from exc
