"""Fuzzing the text helpers and phone parsing with any Unicode at all.

Lone surrogates, NUL and other controls, every combining mark, full-width digits, very long
strings: ``hotline.text`` never raises and keeps its promises (stored text is NFC and
storable, SMS text is GSM-7, folding is stable); ``hotline.phones.normalize`` returns E.164
or raises ``PhoneError``, never anything else.
"""

from __future__ import annotations

import re
import unicodedata

from hypothesis import example, given, settings
from hypothesis import strategies as st

from hotline.phones import PhoneError, is_service_sender, mask, normalize
from hotline.text import clean, fold, is_gsm7, segments, sms_length, unaccent
from tests.faults.support import examples

# Any code point; lone surrogates too (they arrive through JSON escapes).
ANY_CHAR = st.one_of(st.characters(codec=None), st.characters(categories=["Cs"]))
TRICKY = st.sampled_from(list(
    "đĐðÐ\u0300\u0301\u0303\u0309\u0323\u0306\u031b\u00a0\u200b\ufeff\x00\x1b\t\r\n\ud800"
    "\udc00\U0001f600０１２３４５６７８９＋€[]~^{}\\|"
))
ANY_TEXT = st.text(st.one_of(ANY_CHAR, TRICKY), max_size=200)
LONG_TEXT = st.text(st.one_of(ANY_CHAR, TRICKY), min_size=500, max_size=3000)
PHONE_CHARS = st.sampled_from(list("0123456789+ .-()\u2013\u2212０１２３４５６７８９＋８４"))
PHONE_LIKE = st.one_of(
    st.text(PHONE_CHARS, max_size=24),
    st.builds(lambda p, rest: p + rest, st.sampled_from(["+84", "0084", "84", "0", "01", "+840"]),
              st.text(PHONE_CHARS, max_size=14)),
    ANY_TEXT,
)
E164 = re.compile(r"\+84[1-9]\d{8,9}")
FUZZ = settings(max_examples=examples(300), deadline=None)


def storable(s: str) -> bool:
    """What PostgreSQL and any UTF-8 encoder accept."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in s


@FUZZ
@given(st.one_of(ANY_TEXT, LONG_TEXT, st.binary(max_size=300)))
@example("\ud83d\ude00")  # a surrogate pair split into two code points
@example(b"\xff\xfe\x00")
def test_clean_is_storable_nfc_and_idempotent(value):
    cleaned = clean(value)
    assert storable(cleaned)
    assert unicodedata.is_normalized("NFC", cleaned)
    assert clean(cleaned) == cleaned


@FUZZ
@given(st.one_of(ANY_TEXT, LONG_TEXT))
def test_fold_is_stable_and_unaccented(value):
    folded = fold(value)
    assert fold(folded) == folded
    assert folded == folded.strip() and "  " not in folded
    assert not any(unicodedata.category(c).startswith("M")
                   for c in unicodedata.normalize("NFD", folded))
    assert not set(folded) & set("đĐðÐ")


@FUZZ
@given(st.one_of(ANY_TEXT, LONG_TEXT))
def test_unaccent_is_always_gsm7_and_fits_its_segments(value):
    sms = unaccent(value)
    assert is_gsm7(sms)
    assert unaccent(sms) == sms
    n = segments(sms)
    assert (n == 0) == (sms == "")
    length = sms_length(sms)
    assert length <= (160 if n == 1 else 153 * n)
    # Parts are never more than one short (no split escapes): the count is tight.
    assert n <= 1 or length > 152 * (n - 1)


@FUZZ
@given(st.one_of(ANY_TEXT, LONG_TEXT))
def test_segments_of_anything(value):
    n = segments(value)
    assert n >= 0 and (n == 0) == (value == "")
    assert n <= max(1, len(value))


@FUZZ
@given(PHONE_LIKE)
@example("+84 (0) 912 345 678")
@example("+84\ud800912345678")
@example("０９１２３４５６７８")
def test_normalize_returns_e164_or_raises_phone_error_only(raw):
    try:
        phone = normalize(raw)
    except PhoneError:
        return
    assert E164.fullmatch(phone), phone
    assert normalize(phone) == phone
    assert storable(phone)


@FUZZ
@given(st.one_of(PHONE_LIKE, st.none(), st.integers(), st.binary(max_size=20)))
def test_phone_helpers_never_raise(raw):
    assert isinstance(mask(raw), str)
    assert isinstance(is_service_sender(raw), bool)
    if not isinstance(raw, str):
        try:
            normalize(raw)
        except PhoneError:
            pass
