"""The prompt texts: complete, Vietnamese, short, figures by valid-from date."""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal

import pytest

from audio.catalogue import (
    CATALOGUE,
    FIGURES,
    Figure,
    build_catalogue,
    digits_words,
    figure,
    number_words,
    percent_words,
)
from ivr.menu import reachable_prompt_keys


def test_every_reachable_key_has_a_text():
    missing = reachable_prompt_keys() - set(CATALOGUE)
    assert not missing
    for key in reachable_prompt_keys():
        assert CATALOGUE[key].strip(), key


def test_texts_are_vietnamese_nfc_and_short():
    for key, text in CATALOGUE.items():
        assert unicodedata.normalize("NFC", text) == text, key
        assert not any(c.isdigit() for c in text), f"{key}: say numbers as words"
        assert "{" not in text and "}" not in text, key
        # Vietnamese words are syllables; about 60 is 20 seconds of calm speech.
        assert len(text.split()) <= 60, key
    for key, text in CATALOGUE.items():
        if not key.startswith("digit_"):
            assert not text.isascii(), f"{key}: write with diacritics"


def test_report_menu_wording_is_neutral():
    for key in ("report_menu", "report_safety", "main_menu"):
        text = CATALOGUE[key].lower()
        for word in ("bạo lực", "bạo hành", "xâm hại", "đánh", "hiếp"):
            assert word not in text, (key, word)


def test_digits_are_words():
    assert [CATALOGUE[f"digit_{d}"] for d in range(10)] == [
        "không",
        "một",
        "hai",
        "ba",
        "bốn",
        "năm",
        "sáu",
        "bảy",
        "tám",
        "chín",
    ]


def test_emergency_numbers_are_read_digit_by_digit():
    text = CATALOGUE["emergency_numbers"]
    assert "một một ba" in text  # 113 police
    assert "một một năm" in text  # 115 ambulance
    assert "một một một" in text  # 111 children
    assert "một chín không không, chín sáu chín, sáu tám không" in text  # 1900 969680


def test_number_words():
    assert number_words(0) == "không"
    assert number_words(10) == "mười"
    assert number_words(15) == "mười lăm"
    assert number_words(21) == "hai mươi mốt"
    assert number_words(24) == "hai mươi tư"
    assert number_words(105) == "một trăm linh năm"
    assert number_words(330_000) == "ba trăm ba mươi nghìn"
    assert number_words(1_005) == "một nghìn không trăm linh năm"
    assert number_words(1_264_000) == "một triệu hai trăm sáu mươi tư nghìn"
    assert number_words(2_340_000) == "hai triệu ba trăm bốn mươi nghìn"
    assert percent_words(Decimal("4.5")) == "bốn phẩy năm phần trăm"
    assert percent_words(22) == "hai mươi hai phần trăm"
    assert digits_words("1800 1233") == "một tám không không, một hai ba ba"


def test_figure_valid_on_a_date():
    figures = [
        Figure("base_salary_vnd", 1_800_000, date(2023, 7, 1)),
        Figure("base_salary_vnd", 2_340_000, date(2024, 7, 1)),
        Figure("other", 1, date(2020, 1, 1)),
    ]
    assert figure("base_salary_vnd", date(2024, 6, 30), figures).value == 1_800_000
    assert figure("base_salary_vnd", date(2024, 7, 1), figures).value == 2_340_000
    assert figure("base_salary_vnd", date(2030, 1, 1), figures).value == 2_340_000
    with pytest.raises(LookupError, match="base_salary_vnd"):
        figure("base_salary_vnd", date(2023, 6, 30), figures)


def test_every_figure_has_a_valid_from_date():
    assert FIGURES
    for f in FIGURES:
        assert isinstance(f.valid_from, date)


def test_texts_follow_the_figures_of_the_day():
    raise_from = date(2026, 7, 1)
    figures = [*FIGURES, Figure("base_salary_vnd", 2_600_000, raise_from)]
    before = build_catalogue(date(2026, 6, 30), figures)
    after = build_catalogue(raise_from, figures)
    # 4.5% x 2,340,000 x 12 = 1,263,600; 4.5% x 2,600,000 x 12 = 1,404,000
    assert "một triệu hai trăm sáu mươi tư nghìn đồng" in before["info_bhyt"]
    assert "một triệu bốn trăm linh bốn nghìn đồng" in after["info_bhyt"]
    assert before["info_bhxh"] == after["info_bhxh"]


def test_domain_figures_in_the_texts():
    cat = build_catalogue(date(2025, 8, 1))
    assert "mười lăm tuổi" in cat["info_bhxh"]
    assert "hai mươi hai phần trăm" in cat["info_bhxh"]
    assert "ba trăm ba mươi nghìn đồng" in cat["info_bhxh"]
    support = cat["info_bhxh_support"]
    for pct in ("năm mươi", "bốn mươi", "ba mươi", "hai mươi"):
        assert f"{pct} phần trăm" in support
    assert "mười năm" in support
    assert "ba mươi ngày" in cat["info_tam_tru"]
    assert "hai năm" in cat["info_tam_tru"]


def test_no_text_before_the_support_rates_were_valid():
    # The state support rates start 1 July 2025: there is no text for an earlier day.
    with pytest.raises(LookupError, match="bhxh_support"):
        build_catalogue(date(2025, 6, 30))
