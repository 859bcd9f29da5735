"""Every amount, rate and deadline the line tells people, as data with a valid-from date.

The voice menu (``audio.catalogue``) and the SMS information texts (``hotline.templates``)
read the same figures. To change an amount, append a new ``Figure`` with the date it is
valid from (keep the old one: a text for an earlier day must still read the old value);
never edit a text to hold a number. Verify every figure against the official text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class Figure:
    key: str
    value: int | Decimal
    valid_from: date
    source: str = ""


# Verify every figure against the official text before a staff member records it.
FIGURES: list[Figure] = [
    # Base salary (lương cơ sở), the basis of the household health-insurance contribution.
    Figure("base_salary_vnd", 2_340_000, date(2024, 7, 1), "Nghị định 73/2024/NĐ-CP"),
    # Household health insurance (BHYT hộ gia đình): first member pays 4.5% of the base salary.
    Figure("bhyt_household_rate_pct", Decimal("4.5"), date(2015, 1, 1), "Nghị định 105/2014"),
    # Voluntary social insurance (BHXH tự nguyện).
    Figure("bhxh_rate_pct", 22, date(2018, 1, 1), "Luật BHXH 2014, Luật BHXH 2024"),
    # Lowest monthly contribution: 22% of the rural poverty line (1,500,000 VND).
    Figure("bhxh_min_month_vnd", 330_000, date(2022, 1, 1), "22% x chuẩn nghèo nông thôn"),
    Figure("bhxh_min_age", 15, date(2016, 1, 1), "Luật BHXH 2014, Luật BHXH 2024"),
    # State support on the contribution, from 1 July 2025, for up to 10 years.
    Figure("bhxh_support_poor_pct", 50, date(2025, 7, 1), "Luật BHXH 2024"),
    Figure("bhxh_support_near_poor_pct", 40, date(2025, 7, 1), "Luật BHXH 2024"),
    Figure("bhxh_support_ethnic_pct", 30, date(2025, 7, 1), "Luật BHXH 2024"),
    Figure("bhxh_support_other_pct", 20, date(2025, 7, 1), "Luật BHXH 2024"),
    Figure("bhxh_support_max_years", 10, date(2025, 7, 1), "Luật BHXH 2024"),
    # Temporary residence (Luật Cư trú 2020).
    Figure("tam_tru_after_days", 30, date(2021, 7, 1), "Luật Cư trú 2020"),
    Figure("tam_tru_max_years", 2, date(2021, 7, 1), "Luật Cư trú 2020"),
]


def figure(key: str, on: date, figures: list[Figure] | None = None) -> Figure:
    """The figure ``key`` valid on ``on``: the one with the latest valid_from not after ``on``."""
    figures = FIGURES if figures is None else figures
    valid = [f for f in figures if f.key == key and f.valid_from <= on]
    if not valid:
        raise LookupError(f"no figure {key!r} valid on {on.isoformat()}")
    return max(valid, key=lambda f: f.valid_from)


def _vnd(value: int | Decimal) -> str:
    """Rounded to the thousand, Vietnamese separators: 1264000 -> "1.264.000"."""
    n = int((Decimal(value) / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * 1000
    return f"{n:,}".replace(",", ".")


def _pct(value: int | Decimal) -> str:
    return f"{Decimal(value).normalize():f}".replace(".", ",") + "%"


def bhyt_first_year(on: date, figures: list[Figure] | None = None) -> Decimal:
    """What the first member of a household pays for a year of health insurance."""
    base = Decimal(figure("base_salary_vnd", on, figures).value)
    return base * Decimal(figure("bhyt_household_rate_pct", on, figures).value) / 100 * 12


def sms_values(on: date, figures: list[Figure] | None = None) -> dict[str, str]:
    """The figures valid on ``on`` as the SMS information texts write them."""

    def v(key: str) -> int | Decimal:
        return figure(key, on, figures).value

    return {
        "bhyt_first_year": _vnd(bhyt_first_year(on, figures)),
        "bhxh_min_age": str(v("bhxh_min_age")),
        "bhxh_rate": _pct(v("bhxh_rate_pct")),
        "bhxh_min_month": _vnd(v("bhxh_min_month_vnd")),
        "support_poor": _pct(v("bhxh_support_poor_pct")),
        "support_other": _pct(v("bhxh_support_other_pct")),
        "tam_tru_days": str(v("tam_tru_after_days")),
        "tam_tru_years": str(v("tam_tru_max_years")),
    }
