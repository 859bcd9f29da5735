"""Every SMS template fits one GSM-7 SMS with realistic values, in shared-phone wording."""

from __future__ import annotations

import string

import pytest

from hotline.templates import (
    CATEGORY_WORDS,
    OUTCOME_WORDS,
    STATUS_WORDS,
    TEMPLATES,
    category_list,
    render,
)
from hotline.text import fold, is_gsm7, unaccent

# The longest realistic value of each placeholder.
VALUES = {
    "number": "104857",
    "category": max(CATEGORY_WORDS.values(), key=len),
    "status": max(STATUS_WORDS.values(), key=len),
    "outcome": max(OUTCOME_WORDS.values(), key=len),
    # hotline.figures.sms_values, at their longest plausible.
    "bhyt_first_year": "12.345.000", "bhxh_min_age": "15", "bhxh_rate": "22,5%",
    "bhxh_min_month": "1.330.000", "support_poor": "50%", "support_other": "20%",
    "tam_tru_days": "30", "tam_tru_years": "2",
    "topics": "TTDT BHYT BHXH TAMTRU GIOI ANTOAN PHAP",  # minutes_by_sms cuts at 40
    "hotline": "+84240000000",
    "code": "ABCD123",
    "group": "CD01",
    "provider": "Trung tam tro giup phap ly Ha Noi - CN",  # cases.refer cuts names at 40
    "phone": "+84912345678",
    "hours": "24",
    "days": "14",
    "numbers": "1001 1002 1003 1004 1005 1006 1007 1008 1009 1010 1011 1012 1013 1014 1015 1016"
               " 1017 1018 1019 ...",
    "codes": "111 BHXH CA LIGHT LUAT NHBY PN TYT UB",
    "example": "GHI 1024 da goi dien",
    "when": "15:00 CN 13/12",
    "count": "25",
    "date": "31/12/2026",
    "names": "1 Hoa, 2 Lan, 3 Mai, 4 Nga, 5 Hang, 6 Yen, 7 Thu, 8 Huong, 9 Thao, 10 Linh ...",
    "place": "Nha van hoa to dan pho 12, 45 pho Chuong Duong D",  # meeting_values cuts at 50
    "categories": category_list(),
    "name": "Viettel 2 Long Bien",  # devices._alert cuts SIM names at 20
    "minutes": "1440",
}
# Words a shared phone must never show (DOMAIN.md: neutral wording).
FORBIDDEN = ["bao luc", "danh dap", "hiep dam", "xam hai", "bao hanh", "cuong hiep", "buon ban"]


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_template_fits_one_gsm7_sms(key):
    fields = {name for _, name, _, _ in string.Formatter().parse(TEMPLATES[key]) if name}
    assert fields <= set(VALUES), f"{key}: no realistic value for {fields - set(VALUES)}"
    sent = unaccent(render(key, **{k: VALUES[k] for k in fields}))
    assert is_gsm7(sent)
    assert len(sent) <= 160, f"{key} is {len(sent)} characters: {sent}"


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_template_is_neutral_for_a_shared_phone(key):
    folded = fold(TEMPLATES[key])
    assert not [w for w in FORBIDDEN if w in folded]


def test_category_and_status_words_are_neutral():
    for words in list(CATEGORY_WORDS.values()) + list(STATUS_WORDS.values()):
        assert not [w for w in FORBIDDEN if w in fold(words)]


def test_every_case_status_has_words():
    from hotline.models import CaseStatus

    assert {s.value for s in CaseStatus} <= set(STATUS_WORDS)


def test_no_word_reads_as_an_error_and_no_district_is_named():
    """"<loi>" reads as "lỗi" (error) unaccented; and since July 2025 Hanoi has wards and
    the city, no districts (quận, huyện): the texts, the voice menu and the seeded service
    directory say so."""
    import re

    from audio.catalogue import CATALOGUE
    from hotline.seed import PROVIDERS

    district = re.compile(r"\b(quan|huyen)\b(?! ly)")  # "trang quan ly" is the console
    texts = {f"sms:{k}": v for k, v in TEMPLATES.items()}
    texts.update({f"provider:{p[0]}": p[1] for p in PROVIDERS})
    texts.update({f"prompt:{k}": v for k, v in CATALOGUE.items()})
    for name, text in texts.items():
        assert "<loi>" not in text, name
        assert not district.search(fold(text)), (name, text)


def test_information_texts_read_the_dated_figures():
    from datetime import date

    from hotline.figures import FIGURES, Figure, sms_values

    before = render("info_bhxh", **sms_values(date(2026, 1, 1)))
    assert "330.000d" in before and "20%-50%" in before
    changed = [*FIGURES, Figure("bhxh_min_month_vnd", 396_000, date(2026, 7, 1))]
    assert "396.000d" in render("info_bhxh", **sms_values(date(2026, 7, 1), changed))
    assert "330.000d" in render("info_bhxh", **sms_values(date(2026, 6, 30), changed))
    assert "1.264.000d" in render("info_bhyt", **sms_values(date(2026, 1, 1)))
