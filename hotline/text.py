"""Vietnamese text: storing inbound bodies, matching keywords, and SMS encoding."""

from __future__ import annotations

import unicodedata

REPLACEMENT = "\ufffd"

# GSM 03.38 default alphabet (ESC 0x1B excluded: it only introduces the extension table).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each costs 2 septets (ESC + code). Form feed is in the standard table too.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7 = GSM7_BASIC | GSM7_EXTENSION

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67

# Letters that do not decompose under NFD. Ð/ð (eth) is included because some Vietnamese
# input methods and legacy fonts produce it in place of Đ/đ, which looks identical.
_D_MAP = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})

# Obvious GSM-7 stand-ins for common non-GSM characters, applied before the NFKD fallback.
_GSM_SUBSTITUTES = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032`\u00b4", "'"),  # curly quotes, prime
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2022", "-"),  # dashes
    **dict.fromkeys("\t\u00a0", " "),
    # Invisible formatting characters would otherwise turn into '?'.
    **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff", ""),
    "\u2026": "...",
}


def nfc(s: str) -> str:
    """``s`` in Unicode NFC."""
    return unicodedata.normalize("NFC", s)


def _is_mark(c: str) -> bool:
    return unicodedata.category(c).startswith("M")


def _strip_marks(s: str) -> str:
    """Decompose ``s`` and drop every combining mark."""
    return "".join(c for c in unicodedata.normalize("NFD", s) if not _is_mark(c))


def clean(s: str | bytes) -> str:
    """The form in which an inbound body is stored.

    NFC; undecodable bytes, lone surrogates and NUL become U+FFFD. Nothing else changes
    (no stripping). Surrogate pairs split into two code points are joined back.
    """
    if isinstance(s, bytes):
        s = s.decode("utf-8", "replace")
    # Round trip through UTF-16 joins valid surrogate pairs and replaces lone surrogates,
    # which PostgreSQL and UTF-8 encoders reject.
    s = s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    # PostgreSQL text columns cannot hold NUL.
    return nfc(s).replace("\x00", REPLACEMENT)


def fold(s: str) -> str:
    """The form used for matching: lower case, no diacritics, đ -> d, single spaces, stripped."""
    s = _strip_marks(nfc(s).casefold()).translate(_D_MAP)
    return nfc(" ".join(s.split()))


def _to_gsm(c: str) -> str:
    if c in GSM7:
        return c
    sub = _GSM_SUBSTITUTES.get(c)
    if sub is not None:
        return sub
    # Compatibility forms: full-width letters, ligatures, superscripts, odd spaces.
    compat = "".join(x for x in unicodedata.normalize("NFKD", c) if not _is_mark(x))
    if compat and all(x in GSM7 for x in compat):
        return compat
    return "?"


def unaccent(s: str) -> str:
    """The form used for outbound SMS: GSM-7 only, Vietnamese written without diacritics.

    Diacritics are removed (đ -> d, Đ -> D), case is kept, typographic characters get
    their obvious GSM-7 stand-in, and anything else becomes '?'.
    """
    s = _strip_marks(s).translate(_D_MAP)
    return "".join(_to_gsm(c) for c in s)


def is_gsm7(s: str) -> bool:
    """Whether ``s`` can be sent in the GSM 03.38 alphabet (basic plus extension table)."""
    return all(c in GSM7 for c in s)


def _char_units(s: str) -> tuple[list[int], int, int]:
    """Per-character cost of ``s`` and the single/multi-part segment sizes of its encoding."""
    if is_gsm7(s):
        return [2 if c in GSM7_EXTENSION else 1 for c in s], GSM7_SINGLE, GSM7_MULTI
    # UCS-2 (really UTF-16): characters outside the BMP take two code units.
    return [2 if ord(c) > 0xFFFF else 1 for c in s], UCS2_SINGLE, UCS2_MULTI


def sms_length(s: str) -> int:
    """Length in septets (GSM-7, extension characters count 2) or UTF-16 code units."""
    return sum(_char_units(s)[0])


def segments(s: str) -> int:
    """Number of SMS parts needed to send ``s`` (0 for the empty string).

    A message that fits one SMS (160 septets / 70 units) is one part; longer ones are
    split into parts of 153 septets / 67 units. Like phones and gateways do, an
    extension character or a surrogate pair is never split across two parts, so a
    part may be one short and the count can exceed a plain ceil(length / 153).
    """
    units, single, multi = _char_units(s)
    total = sum(units)
    if total == 0:
        return 0
    if total <= single:
        return 1
    parts, used = 1, 0
    for u in units:
        if used + u > multi:
            parts, used = parts + 1, 0
        used += u
    return parts
