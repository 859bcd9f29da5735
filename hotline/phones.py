"""Vietnamese phone numbers: parse what people type into E.164 (``+84…``)."""

from __future__ import annotations

import re
import unicodedata

COUNTRY_CODE = "84"

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

_MOBILE = re.compile(r"[35789]\d{8}")  # 10 digits with the 0: 03x, 05x, 07x, 08x, 09x
_LANDLINE = re.compile(r"2\d{9}")  # 11 digits with the 0: 02x / 02xx area code
_OLD_MOBILE = re.compile(r"1\d{9}")  # 11 digits with the 0: 01xx
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
    """
    if not isinstance(raw, str):
        raise PhoneError(f"not a Vietnamese phone number: {_hide(raw)!r}")
    s = _compact(raw)
    if s.startswith("+"):
        international = s[1:]
    elif s.startswith("00"):
        international = s[2:]
    elif s.startswith(COUNTRY_CODE):
        # National numbers always start with the trunk 0, so a leading 84 is the country code.
        international = s
    elif s.startswith("0"):
        international = None
        nsn = s[1:]
    else:
        raise PhoneError(f"not a Vietnamese phone number: {_hide(raw)!r}")
    if international is not None:
        if not international.startswith(COUNTRY_CODE):
            raise PhoneError(f"not a Vietnamese phone number (foreign): {_hide(raw)!r}")
        nsn = international.removeprefix(COUNTRY_CODE)
        # "+84 (0) 912 ...": no national significant number starts with 0, so drop one trunk 0.
        if nsn.startswith("0"):
            nsn = nsn[1:]
    if not nsn.isascii() or not nsn.isdigit():
        raise PhoneError(f"not a Vietnamese phone number: {_hide(raw)!r}")
    if _OLD_MOBILE.fullmatch(nsn):
        new = OLD_MOBILE_PREFIXES.get(nsn[:3])
        if new is None:
            raise PhoneError(f"not a Vietnamese phone number (unknown old prefix): {_hide(raw)!r}")
        nsn = new + nsn[3:]
    if not (_MOBILE.fullmatch(nsn) or _LANDLINE.fullmatch(nsn)):
        raise PhoneError(f"not a Vietnamese phone number: {_hide(raw)!r}")
    return "+" + COUNTRY_CODE + nsn


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
