"""Working days in Hanoi, for promises made "within N working days" (an erasure request).

Saturday and Sunday are not working days, nor the public holidays with a fixed solar date
(Labour Code 2019, art. 112: 1 January, 30 April, 1 May, 2 September). The lunar holidays
(Tết, the Hùng Kings' day) and the day the government adds next to 2 September move every
year and are announced late: list them in ``HOTLINE_HOLIDAYS`` (ISO dates, comma-separated).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from hotline import clock

FIXED_HOLIDAYS = frozenset({(1, 1), (4, 30), (5, 1), (9, 2)})


def parse_holidays(raw: str) -> frozenset[date]:
    """``2026-02-16, 2026-02-17`` as dates; raises ValueError on anything else."""
    return frozenset(date.fromisoformat(part.strip()) for part in raw.split(",") if part.strip())


def is_working_day(day: date, holidays: Iterable[date] = ()) -> bool:
    return (day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS
            and day not in holidays)


def deadline(received: datetime, days: int, holidays: Iterable[date] = ()) -> datetime:
    """The end (23:59 in Hanoi, as UTC) of the ``days``-th working day after the Hanoi day
    ``received`` falls on: Monday -> Wednesday 23:59 for 2, Friday or Saturday -> Tuesday."""
    holidays = frozenset(holidays)
    day, counted = clock.local(received).date(), 0
    while counted < days:
        day += timedelta(days=1)
        counted += is_working_day(day, holidays)
    return clock.at_local(day, time(23, 59))
