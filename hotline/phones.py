"""Vietnamese phone numbers: parse what people type into E.164 (``+84…``) with the
``phonenumbers`` library, plus the 2018 prefix change it lacks; the network of a number."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

COUNTRY_CODE = "84"
REGION = "VN"

# Pre-2018 11-digit mobile prefixes (national significant number, without the trunk 0)
# and the 10-digit prefixes they were moved to in 2018.
OLD_MOBILE_PREFIXES: dict[str, str] = {
    # Viettel 0162-0169 -> 032-039
    **{f"16{d}": f"3{d}" for d in "23456789"},
    # MobiFone
    "120": "70",
    "121": "79",
    "122": "77",
    "126": "76",
    "128": "78",
    # VinaPhone
    "123": "83",
    "124": "84",
    "125": "85",
    "127": "81",
    "129": "82",
    # Vietnamobile
    "186": "56",
    "188": "58",
    # Gmobile
    "199": "59",
}

# What the numbering plan gives each kind (national significant number, after the 2018
# change): mobiles start 3, 5, 7, 8 or 9, landlines 2 (with their 2- or 3-digit area code).
# ``phonenumbers`` checks the lengths; a number in these ranges that its pinned metadata does
# not list yet (a newly opened prefix) is still reachable, so it is not refused for that.
_PLAN = {"3": PhoneNumberType.MOBILE, "5": PhoneNumberType.MOBILE, "7": PhoneNumberType.MOBILE,
         "8": PhoneNumberType.MOBILE, "9": PhoneNumberType.MOBILE,
         "2": PhoneNumberType.FIXED_LINE}
_REACHABLE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE,
              PhoneNumberType.FIXED_LINE_OR_MOBILE}
_E164_MOBILE = re.compile(r"\+84[35789]\d{8}")
# Separators people put inside numbers; Unicode dashes come from word processors and phones.
_SEPARATORS = re.compile(r"[\s.\-()\u2010-\u2015\u2212]")
_SERVICE_NUMBER = re.compile(r"(?:(?:\+|00)?84)?(?:1800|1900)\d*")
_DIGITS = re.compile(r"\+?\d+", re.ASCII)


class PhoneError(ValueError):
    """Raised when a string is not a Vietnamese phone number we can reach.

    The message shows the input masked: it ends up in logs and may be a real number.
    """


def _compact(raw: str) -> str:
    # NFKC turns full-width digits and the full-width plus sign into ASCII.
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw))


def normalize(raw: str) -> str:
    """Return ``raw`` as E.164 (``+84…``), converting pre-2018 mobile prefixes.

    Accepts national (``0…``) and international (``84…``, ``+84…``, ``0084…``) forms,
    with spaces, dots, dashes and parentheses, and ``+84 (0) …``. Raises PhoneError
    for anything else, including 1800/1900 service numbers and foreign numbers.

    The forms are read here (a national number must start with its trunk 0: ``912345678``
    is a typo, not a number); ``phonenumbers`` parses the digits and checks the result,
    after the 2018 prefix map it does not know (it calls ``0168…`` simply invalid).
    """
    if not isinstance(raw, str):
        raise PhoneError(f"not a Vietnamese phone number: {_hide(raw)!r}")
    return _normalize(raw)


@lru_cache(maxsize=16384)
def _normalize(raw: str) -> str:
    """``normalize`` of a string, remembered: the library's parse costs ~50 µs, and the same
    few thousand numbers come back in every webhook, log line and job."""
    s = _compact(raw)
    if not _DIGITS.fullmatch(s):  # letters, extensions, two numbers, non-ASCII digits
        raise PhoneError(f"not a Vietnamese phone number: {_hide(raw)!r}")
    if s.startswith("+") or s.startswith("00"):
        international = s
    elif s.startswith(COUNTRY_CODE):
        # National numbers always start with the trunk 0, so a leading 84 is the country code.
        international = "+" + s
    elif s.startswith("0"):
        international = "+" + COUNTRY_CODE + s[1:]
    else:
        raise PhoneError(f"not a Vietnamese phone number: {_hide(raw)!r}")
    try:
        number = phonenumbers.parse(international, REGION)
    except NumberParseException:
        raise PhoneError(f"not a Vietnamese phone number: {_hide(raw)!r}") from None
    if number.country_code != int(COUNTRY_CODE):
        raise PhoneError(f"not a Vietnamese phone number (foreign): {_hide(raw)!r}")
    nsn = phonenumbers.national_significant_number(number)
    if len(nsn) == 10 and nsn.startswith("1"):
        new = OLD_MOBILE_PREFIXES.get(nsn[:3])
        if new is None:
            raise PhoneError(f"not a Vietnamese phone number (unknown old prefix): {_hide(raw)!r}")
        nsn = new + nsn[3:]
        number = phonenumbers.parse("+" + COUNTRY_CODE + nsn, None)
    if not _reachable(number, nsn):
        raise PhoneError(f"not a Vietnamese phone number: {_hide(raw)!r}")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _reachable(number: phonenumbers.PhoneNumber, nsn: str) -> bool:
    """A mobile or a landline: as ``phonenumbers`` knows them, or of the plan's length."""
    if phonenumbers.is_valid_number(number):
        return phonenumbers.number_type(number) in _REACHABLE
    kind = _PLAN.get(nsn[:1])
    return kind is not None and phonenumbers.is_possible_number_for_type(number, kind)


# The network each mobile range was issued to, by the first digits of the national number
# (the longest that matches): libphonenumber's carrier table for +84, in our names (a SIM's
# ``carrier`` column). ``phonenumbers.carrier`` holds the table of every country, 29,000
# prefixes and 10 MB in every process, for these; a test keeps them equal to it. The 1x
# ranges it also lists were moved in 2018 (``OLD_MOBILE_PREFIXES``); Indochina Telecom's
# 998 and 999 are no network of ours.
_NETWORKS: dict[str, str | None] = {
    "3": "viettel", "30": "mobifone",
    "51": "mobifone", "52": "vietnamobile", "55": "reddi", "56": "vietnamobile",
    "58": "vietnamobile", "59": "gmobile",
    "7": "mobifone",
    "8": "vinaphone", "86": "viettel", "89": "mobifone",
    "90": "mobifone", "91": "vinaphone", "92": "vietnamobile", "93": "mobifone",
    "94": "vinaphone", "96": "viettel", "97": "viettel", "98": "viettel",
    **{f"99{d}": "gmobile" for d in "34567"}, "998": None, "999": None,
}
# The kinds of number libphonenumber names a network for.
_NETWORK_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE,
                  PhoneNumberType.PAGER}


@lru_cache(maxsize=4096)
def carrier(e164: str | None) -> str | None:
    """The mobile network a Vietnamese number was issued on (``viettel``, ``vinaphone``,
    ``mobifone``, ``vietnamobile``, ``gmobile``...), from its prefix; None for a landline,
    a foreign number or a prefix ``phonenumbers`` does not know. A number ported to another
    network since (possible since 2018) is guessed wrong: a SIM it texted is a better guide.
    """
    if not is_mobile(e164 or ""):
        return None
    if phonenumbers.number_type(phonenumbers.parse(e164, None)) not in _NETWORK_TYPES:
        return None
    nsn = e164[3:]
    for length in (3, 2, 1):
        if nsn[:length] in _NETWORKS:
            return _NETWORKS[nsn[:length]]
    return None


def is_mobile(e164: str) -> bool:
    """Whether ``e164`` (already normalized) is a Vietnamese mobile number."""
    return isinstance(e164, str) and _E164_MOBILE.fullmatch(e164) is not None


def mask(value: str) -> str:
    """Hide a phone number for logs: ``+84912345678`` -> ``+84******678``. Never raises.

    Vietnamese numbers keep ``+84`` and the last 3 digits; anything else keeps only
    its last 3 characters, and strings shorter than 7 characters become ``***``.
    """
    try:
        text = value if isinstance(value, str) else str(value)
        try:
            e164 = normalize(text)
        except PhoneError:
            pass
        else:
            nsn = e164[3:]
            return "+" + COUNTRY_CODE + "*" * (len(nsn) - 3) + nsn[-3:]
        return _hide(text)
    except Exception:  # a log helper must never break the request it logs
        return "***"


def national(value: str | None, *, masked: bool = False) -> str:
    """A number as people in Vietnam write it: ``+84912345678`` -> ``0912 345 678``,
    ``+842439330215`` -> ``024 3933 0215``. ``masked`` hides all but the last 3 digits
    (``0*** *** 678``), enough to tell two people apart. Short service numbers (111, 1800
    1233) and anything that is not a Vietnamese number are returned as they are (masked
    like ``mask`` when asked). Never raises."""
    if not value:
        return ""
    try:
        nsn = normalize(value)[3:]
    except (PhoneError, TypeError):
        text = _compact(str(value))
        if masked:
            return mask(value)
        if _SERVICE_NUMBER.fullmatch(text) and len(text) in (8, 10):  # 1800 1233, 1900 969 680
            return f"{text[:4]} {text[4:]}" if len(text) == 8 else (
                f"{text[:4]} {text[4:7]} {text[7:]}")
        shaped = re.fullmatch(r"\+84(\d{8,10})", text)  # a test line's number: same shape
        if not shaped:
            return str(value)
        nsn = shaped.group(1)
    digits = "0" + nsn
    if masked:
        digits = "0" + "*" * (len(nsn) - 3) + nsn[-3:]
    if len(nsn) == 9 and nsn[0] != "2":  # mobile: 0912 345 678
        return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
    if nsn[:2] in ("24", "28"):  # Hanoi and Ho Chi Minh City: 024 3933 0215
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    return f"{digits[:4]} {digits[4:7]} {digits[7:]}"  # other areas: 0222 382 1234


def _hide(value: object) -> str:
    """Mask something that is not a Vietnamese number: keep only its last 3 characters."""
    text = str(value).strip()
    # Below 7 characters the last 3 would give away too much of the whole.
    if len(text) < 7:
        return "***"
    return "***" + text[-3:]


def is_service_sender(raw: str) -> bool:
    """Whether ``raw`` is a sender the hotline must never reply to.

    True for alphanumeric sender names (``VIETTEL``), short codes and other numbers
    under 7 digits (``191``, ``9029``), 1800/1900 service numbers, and empty senders.
    """
    if not isinstance(raw, str):
        return True
    s = _compact(raw)
    # Brandnames, empty senders and anything else that is not a dialable number.
    if not _DIGITS.fullmatch(s):
        return True
    if len(s.lstrip("+")) < 7:
        return True
    return _SERVICE_NUMBER.fullmatch(s) is not None
