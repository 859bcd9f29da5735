"""Vietnamese text: storing inbound bodies, matching keywords, and SMS encoding."""

from __future__ import annotations

import re
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


def _unaccent_char(c: str) -> str:
    """What ``unaccent`` makes of the one character ``c``."""
    return "".join(_to_gsm(x) for x in _strip_marks(c).translate(_D_MAP))


class _UnaccentTable(dict):
    """``str.translate`` table for ``unaccent``: code point -> replacement, filled on first
    sight of a character (up to ``_UNACCENT_CACHED`` of them; any further one is worked out
    each time and not kept, so odd input cannot grow it without bound)."""

    def __missing__(self, code: int) -> str:
        out = _unaccent_char(chr(code))
        if len(self) < _UNACCENT_CACHED:
            self[code] = out
        return out


_UNACCENT_CACHED = 8192
# ASCII, Latin-1 and the Latin and Vietnamese blocks, combining marks and general
# punctuation filled in advance; anything else on first use.
_UNACCENT = _UnaccentTable()
for _block in ((0x00, 0x250), (0x300, 0x370), (0x1E00, 0x1F00), (0x2000, 0x2070)):
    for _code in range(*_block):
        _UNACCENT[_code] = _unaccent_char(chr(_code))


def unaccent(s: str) -> str:
    """The form used for outbound SMS: GSM-7 only, Vietnamese written without diacritics.

    Diacritics are removed (đ -> d, Đ -> D), case is kept, typographic characters get
    their obvious GSM-7 stand-in, and anything else becomes '?'.

    Character by character, through a translate table: decomposing a whole string and
    dropping its marks gives the same as doing it to each character (canonical reordering
    only moves combining marks, which all go), and every later step looks at one character.
    """
    return s.translate(_UNACCENT)


_NOT_GSM7 = re.compile("[^" + re.escape("".join(sorted(GSM7))) + "]")
_GSM7_EXT = re.compile("[" + re.escape("".join(sorted(GSM7_EXTENSION))) + "]")
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


def is_gsm7(s: str) -> bool:
    """Whether ``s`` can be sent in the GSM 03.38 alphabet (basic plus extension table)."""
    return _NOT_GSM7.search(s) is None


def _encoding(s: str) -> tuple[int, int, int, int]:
    """Length of ``s`` in its encoding's units (septets or UTF-16 code units), how many of
    its characters take two units, and the single/multi-part segment sizes."""
    if is_gsm7(s):
        double = len(_GSM7_EXT.findall(s))
        return len(s) + double, double, GSM7_SINGLE, GSM7_MULTI
    # UCS-2 (really UTF-16): characters outside the BMP take two code units.
    double = len(_ASTRAL.findall(s))
    return len(s) + double, double, UCS2_SINGLE, UCS2_MULTI


def _char_units(s: str) -> list[int]:
    """Per-character cost of ``s`` in its encoding."""
    if is_gsm7(s):
        return [2 if c in GSM7_EXTENSION else 1 for c in s]
    return [2 if ord(c) > 0xFFFF else 1 for c in s]


def sms_length(s: str) -> int:
    """Length in septets (GSM-7, extension characters count 2) or UTF-16 code units."""
    return _encoding(s)[0]


def segments(s: str) -> int:
    """Number of SMS parts needed to send ``s`` (0 for the empty string).

    A message that fits one SMS (160 septets / 70 units) is one part; longer ones are
    split into parts of 153 septets / 67 units. Like phones and gateways do, an
    extension character or a surrogate pair is never split across two parts, so a
    part may be one short and the count can exceed a plain ceil(length / 153).
    """
    total, double, single, multi = _encoding(s)
    if total == 0:
        return 0
    if total <= single:
        return 1
    if double == 0:  # every character one unit: nothing to keep whole
        return -(-total // multi)
    parts, used = 1, 0
    for u in _char_units(s):
        if used + u > multi:
            parts, used = parts + 1, 0
        used += u
    return parts
