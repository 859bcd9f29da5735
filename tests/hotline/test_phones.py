import re

import phonenumbers
import phonenumbers.carrier
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.phones import (
    OLD_MOBILE_PREFIXES,
    PhoneError,
    carrier,
    is_mobile,
    is_service_sender,
    mask,
    normalize,
)

# (written, expected E.164)
VALID = [
    ("0912345678", "+84912345678"),
    ("84912345678", "+84912345678"),
    ("+84912345678", "+84912345678"),
    ("0084912345678", "+84912345678"),
    ("091.234.5678", "+84912345678"),
    ("0912-345-678", "+84912345678"),
    ("0912 345 678", "+84912345678"),
    ("(+84) 912 345 678", "+84912345678"),
    ("+84 (0) 912 345 678", "+84912345678"),
    ("(84) 912.345.678", "+84912345678"),
    ("  0912345678\n", "+84912345678"),
    ("0912\u00a0345\u2013678", "+84912345678"),
    ("\uff10\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18", "+84912345678"),
    ("\uff0b84912345678", "+84912345678"),
    ("0321234567", "+84321234567"),
    ("0561234567", "+84561234567"),
    ("0701234567", "+84701234567"),
    ("0861234567", "+84861234567"),
    ("0841234567", "+84841234567"),  # VinaPhone 084, not the country code
    ("84841234567", "+84841234567"),
    # Landlines: 02x / 02xx area codes, 11 digits with the 0.
    ("024 3123 4567", "+842431234567"),
    ("(028) 3823 4567", "+842838234567"),
    ("0236.381.2345", "+842363812345"),
    ("+84 24 3123 4567", "+842431234567"),
    # Pre-2018 numbers in international form.
    ("+84 168 123 4567", "+84381234567"),
    ("841681234567", "+84381234567"),
    ("00841681234567", "+84381234567"),
]

# Every 2018 conversion of an 11-digit mobile prefix.
OLD_PREFIXES = [
    # Viettel
    ("0162", "032"),
    ("0163", "033"),
    ("0164", "034"),
    ("0165", "035"),
    ("0166", "036"),
    ("0167", "037"),
    ("0168", "038"),
    ("0169", "039"),
    # MobiFone
    ("0120", "070"),
    ("0121", "079"),
    ("0122", "077"),
    ("0126", "076"),
    ("0128", "078"),
    # VinaPhone
    ("0123", "083"),
    ("0124", "084"),
    ("0125", "085"),
    ("0127", "081"),
    ("0129", "082"),
    # Vietnamobile
    ("0186", "056"),
    ("0188", "058"),
    # Gmobile
    ("0199", "059"),
]

INVALID = [
    "",
    "   ",
    "0",
    "091234567",  # one digit short
    "09123456789",  # one digit long
    "912345678",  # no trunk 0
    "0112345678",  # 01x with 10 digits is neither old nor new
    "01301234567",  # 0130 was never a mobile prefix
    "0612345678",  # 06x is not a mobile prefix
    "0412345678",  # pre-2017 landline format
    "024312345",  # landline too short
    "0912a45678",
    "09l2345678",
    "+1 415 555 0123",
    "+33612345678",
    "0033612345678",
    "+840",
    "+84",
    "++84912345678",
    "0912345678/0987654321",
    "1900969680",
    "18001233",
    "113",
    "VIETTEL",
    "0912345678 ext 2",
    "\u0669\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669",  # Arabic-Indic digits
]


@pytest.mark.parametrize(("raw", "expected"), VALID)
def test_normalize_examples(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize(("old", "new"), OLD_PREFIXES)
def test_every_old_prefix_is_converted(old, new):
    subscriber = "1234567"
    expected = "+84" + new[1:] + subscriber
    assert normalize(old + subscriber) == expected
    assert normalize("+84" + old[1:] + subscriber) == expected
    assert is_mobile(expected)


def test_old_prefix_table_is_the_one_tested():
    assert {"0" + k: "0" + v for k, v in OLD_MOBILE_PREFIXES.items()} == dict(OLD_PREFIXES)


@pytest.mark.parametrize("raw", INVALID)
def test_normalize_rejects(raw):
    with pytest.raises(PhoneError, match="not a Vietnamese phone number"):
        normalize(raw)


def test_phone_error_is_value_error_and_hides_the_number():
    with pytest.raises(ValueError, match="not a Vietnamese phone number") as info:
        normalize("+33612345678")
    assert "612345" not in str(info.value)
    assert "678" in str(info.value)


def test_normalize_rejects_non_strings():
    with pytest.raises(PhoneError):
        normalize(912345678)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("e164", "expected"),
    [
        ("+84912345678", True),
        ("+84381234567", True),
        ("+84561234567", True),
        ("+842431234567", False),  # landline
        ("0912345678", False),  # not normalized
        ("+8491234567", False),
        ("+849123456789", False),
        ("", False),
        (None, False),
    ],
)
def test_is_mobile(e164, expected):
    assert is_mobile(e164) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+84912345678", "+84******678"),
        ("0912 345 678", "+84******678"),
        ("01681234567", "+84******567"),
        ("024 3123 4567", "+84*******567"),
        ("+14155550123", "***123"),
        ("not a number at all", "***all"),
        ("113", "***"),
        ("123456", "***"),
        ("", "***"),
        (None, "***"),
        (84912345678, "+84******678"),
    ],
)
def test_mask(value, expected):
    assert mask(value) == expected


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ("VIETTEL", True),
        ("MobiFone", True),
        ("Vietcombank", True),
        ("VNPT-MEDIA", True),
        ("191", True),
        ("9029", True),
        ("+9029", True),
        ("113", True),
        ("888888", True),
        ("1900969680", True),
        ("1900 96 96 80", True),
        ("19001234", True),
        ("18001233", True),
        ("+841900969680", True),
        ("", True),
        ("*101#", True),
        (None, True),
        ("0912345678", False),
        ("+84912345678", False),
        ("01681234567", False),
        ("024 3123 4567", False),
        ("+14155550123", False),  # a foreign personal number is not a service sender
    ],
)
def test_is_service_sender(sender, expected):
    assert is_service_sender(sender) is expected


# --- properties ---------------------------------------------------------------------------

_new_mobile = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from("35789"),
    st.text("0123456789", min_size=8, max_size=8),
)
_old_mobile = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(sorted(OLD_MOBILE_PREFIXES)),
    st.text("0123456789", min_size=7, max_size=7),
)
_landline = st.builds(lambda rest: "2" + rest, st.text("0123456789", min_size=9, max_size=9))
# A national significant number (no trunk 0), as it was issued.
_nsn = st.one_of(_new_mobile, _old_mobile, _landline)


def _expected(nsn: str) -> str:
    if nsn[:3] in OLD_MOBILE_PREFIXES and len(nsn) == 10 and nsn[0] == "1":
        nsn = OLD_MOBILE_PREFIXES[nsn[:3]] + nsn[3:]
    return "+84" + nsn


def _fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in s)


@st.composite
def written_numbers(draw):
    """(how someone wrote it, the E.164 it stands for)."""
    nsn = draw(_nsn)
    prefix = draw(st.sampled_from(["0", "84", "+84", "0084", "+84 (0) ", "(+84) ", "84 0"]))
    sep = draw(st.sampled_from(["", " ", ".", "-"]))
    cuts = sorted(draw(st.sets(st.integers(1, len(nsn) - 1), max_size=3)))
    parts = [nsn[i:j] for i, j in zip([0, *cuts], [*cuts, len(nsn)], strict=True)]
    raw = prefix + sep.join(parts)
    if draw(st.booleans()):
        raw = _fullwidth(raw)
    return raw, _expected(nsn)


@given(written_numbers())
def test_normalize_every_format(case):
    raw, expected = case
    assert normalize(raw) == expected


@given(written_numbers())
def test_normalize_is_idempotent(case):
    raw, _ = case
    once = normalize(raw)
    assert normalize(once) == once
    assert re.fullmatch(r"\+84\d{9,10}", once)


@given(written_numbers())
def test_valid_numbers_are_not_service_senders(case):
    raw, _ = case
    assert not is_service_sender(raw)


@given(written_numbers())
def test_mask_reveals_only_last_three_digits(case):
    raw, expected = case
    masked = mask(raw)
    assert masked.startswith("+84")
    assert re.sub(r"\D", "", masked[3:]) == expected[-3:]
    assert len(masked) == len(expected)


@given(st.one_of(st.text(), st.text("0123456789+ .-()", max_size=20)))
def test_mask_never_raises_and_reveals_at_most_three_digits(value):
    masked = mask(value)
    rest = masked[3:] if masked.startswith("+84") else masked
    assert sum(c.isdigit() for c in rest) <= 3
    assert "*" in masked


@pytest.mark.parametrize("raw, shown, masked", [
    ("+84912345678", "0912 345 678", "0*** *** 678"),
    ("0168 123 4567", "0381 234 567", "0*** *** 567"),  # the 2018 prefix, converted
    ("+842439330215", "024 3933 0215", "0** **** *215"),
    ("02223821234", "0222 382 1234", "0*** *** *234"),
    ("18001233", "1800 1233", "***233"),
    ("1900969680", "1900 969 680", "***680"),
    ("+84240000000", "024 0000 000", "***000"),  # the demo's hotline: not a real number
    ("111", "111", "***"),
    ("", "", ""),
])
def test_national_format_as_people_write_it(raw, shown, masked):
    from hotline.phones import national

    assert national(raw) == shown
    assert national(raw, masked=True) == masked


# libphonenumber's network names -> ours (any other name: no network of ours).
LIBRARY_NETWORKS = {"Viettel": "viettel", "Vinaphone": "vinaphone", "MobiFone": "mobifone",
                    "Vietnamobile": "vietnamobile", "G-Mobile": "gmobile", "Reddi": "reddi"}


def test_the_network_of_every_mobile_range_is_libphonenumbers():
    """Our +84 table gives what ``phonenumbers.carrier`` (every country's table, 10 MB a
    process) gives, for every three-digit range, valid numbers or not."""
    differ = []
    for prefix in range(300, 1000):
        for rest in ("000000", "123456", "888888", "999999"):
            number = f"+84{prefix}{rest}"
            name = phonenumbers.carrier.name_for_number(phonenumbers.parse(number), "en")
            if carrier(number) != LIBRARY_NETWORKS.get(name):
                differ.append((number, carrier(number), name))
    assert differ == []
    assert carrier("+84912345678") == "vinaphone" and carrier("+84971234567") == "viettel"
    assert carrier("+842439330215") is None and carrier(None) is None
