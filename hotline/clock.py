"""Time: stored in UTC, shown and scheduled in Hanoi time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def utcnow() -> datetime:
    return datetime.now(UTC)


def local(dt: datetime) -> datetime:
    """``dt`` (aware) in Hanoi time."""
    return dt.astimezone(HANOI)


def at_local(day: date, clock: time) -> datetime:
    """The UTC instant of ``clock`` on ``day`` in Hanoi."""
    return datetime.combine(day, clock, tzinfo=HANOI).astimezone(UTC)


def in_window(dt: datetime, start: time, end: time) -> bool:
    """Whether Hanoi-local ``dt`` falls in [start, end); windows may wrap midnight."""
    t = local(dt).time()
    if start <= end:
        return start <= t < end
    return t >= start or t < end


def next_in_window(dt: datetime, start: time, end: time) -> datetime:
    """``dt`` if it falls in the window, else the window's next opening."""
    if in_window(dt, start, end):
        return dt
    day = local(dt).date()
    opening = at_local(day, start)
    return opening if opening > dt else at_local(day + timedelta(days=1), start)


def local_day_bounds(dt: datetime) -> tuple[datetime, datetime]:
    """UTC start and end of the Hanoi calendar day that holds ``dt``."""
    day = local(dt).date()
    return at_local(day, time(0)), at_local(day + timedelta(days=1), time(0))
