"""The one clock. Every "now" and "today" the rules judge or people see comes from here.

Dates are China's calendar (Asia/Shanghai) whatever the server's own zone: a payment
dated today at 01:00 in Beijing is 17:00 UTC the day before, and must not be "in the
future". Timestamps are stored in UTC. Tests move time by patching `now`.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def today() -> date:
    """Today's date in China."""
    return now().astimezone(CHINA).date()


def china_time(moment: datetime) -> datetime:
    """`moment` (aware) as China's wall clock."""
    return moment.astimezone(CHINA)


def start_of_day(day: date) -> datetime:
    """The instant China's `day` begins (aware)."""
    return datetime.combine(day, time(), CHINA)


def format_moment(moment: datetime) -> str:
    """As people read it: 2026年12月14日 06:36 (China time)."""
    return china_time(moment).strftime("%Y年%m月%d日 %H:%M")
