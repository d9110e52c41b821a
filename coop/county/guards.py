"""The freeze a live reward round puts on its year's scores and rules."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from coop.county.models import RewardRound
from coop.errors import Conflict


def live_round(session: Session, county_id: int, year: int) -> RewardRound | None:
    """The county's draft or approved reward round for `year`, if any."""
    return session.execute(select(RewardRound).where(
        RewardRound.county_id == county_id, RewardRound.live_year == year)).scalar_one_or_none()


def refuse_if_round_live(session: Session, county_id: int, year: int) -> None:
    """Scores and rules of a year are frozen while a round for it is draft or approved:
    the round was computed from them (cancel or reject the draft to change them)."""
    if live_round(session, county_id, year) is not None:
        raise Conflict("该年度已有奖励轮次（草稿或已批准），不能再修改考核或奖励规则")
