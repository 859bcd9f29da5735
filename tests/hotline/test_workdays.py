"""Working days: "within 2 working days" skips weekends and public holidays."""

from __future__ import annotations

from datetime import date

import pytest

from hotline import clock
from hotline.config import Settings
from hotline.workdays import deadline, is_working_day, parse_holidays
from tests.conftest import at


def hanoi(value) -> str:
    return f"{clock.local(value):%a %d/%m %H:%M}"


@pytest.mark.parametrize(("received", "due"), [
    ("2026-03-09 10:00", "Wed 11/03 23:59"),  # Monday
    ("2026-03-13 16:00", "Tue 17/03 23:59"),  # Friday: Monday and Tuesday
    ("2026-03-14 09:00", "Tue 17/03 23:59"),  # Saturday
    ("2026-03-15 23:30", "Tue 17/03 23:59"),  # Sunday night
    ("2026-04-29 10:00", "Tue 05/05 23:59"),  # 30 April and 1 May are holidays
    ("2026-12-31 10:00", "Tue 05/01 23:59"),  # New Year's Day, then the weekend
])
def test_two_working_days(received, due):
    assert hanoi(deadline(at(received), 2)) == due


def test_listed_holidays_are_skipped_too():
    tet = parse_holidays("2026-02-16, 2026-02-17,2026-02-18")
    assert hanoi(deadline(at("2026-02-13 10:00"), 2)) == "Tue 17/02 23:59"
    assert hanoi(deadline(at("2026-02-13 10:00"), 2, tet)) == "Fri 20/02 23:59"
    assert not is_working_day(date(2026, 9, 2)) and is_working_day(date(2026, 9, 3))


def test_the_setting_reads_dates_and_refuses_anything_else():
    assert Settings(holidays="2026-02-17").holiday_dates == {date(2026, 2, 17)}
    assert Settings().holiday_dates == frozenset()
    with pytest.raises(ValueError, match="HOTLINE_HOLIDAYS"):
        Settings.from_env({"HOTLINE_HOLIDAYS": "Tet"})
