"""Reading one Vietnamese word as people type it: its folded base and its marks, and the
base letters left by a Telex or VNI keyboard, so that keyword tables (the SMS parser, the
danger words) can match ``huyr``, ``huy3``, ``cuwus`` or ``CUU`` against a word written with its
proper accents.

An unaccented or decoded word matches any marks; an accented word must carry the table word's
own marks (a plain d may stand for đ): ``đúng`` is not ``dừng``, ``cửu`` is not ``cứu``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from hotline.text import fold

STROKE = "đ"  # stands for the stroke of đ, which is not a combining mark
_TELEX_TONES = frozenset("sfrxj")
_VNI_DIGITS = "123456789"
_LEET = str.maketrans("0134", "oiea")
_VOWELS = frozenset("aeiouy")

MAX_WORD_CHARS = 40  # no table word is longer; spares a 5,000-character word the decoding

Word = tuple[str, tuple[str, ...] | None]  # (folded base, sorted marks; None: unknown)


def is_mark(c: str) -> bool:
    return unicodedata.category(c).startswith("M")


def signature(word: str) -> Word:
    """Folded base and the multiset of marks (combining marks, plus 'đ' for the stroke)."""
    marks = []
    for c in unicodedata.normalize("NFD", word):
        if c in "đĐðÐ":
            marks.append(STROKE)
        elif is_mark(c):
            marks.append(c)
    return fold(word), tuple(sorted(marks))


def _telex(w: str) -> str:
    """Base letters of a lower-case ASCII word typed in Telex: 'ddoongf' -> 'dong', 'huyr' -> 'huy'.

    A Vietnamese syllable never has s, f, r, x or j after its vowel, so those are tone keys.
    """
    if w.startswith("dd"):
        w = w[1:]
    out: list[str] = []
    tone = False
    i = 0
    while i < len(w):
        c, nxt = w[i], w[i + 1 : i + 2]
        if c in "aeo" and nxt == c:  # aa ee oo -> â ê ô
            out.append(c)
            i += 2
        elif c in "aou" and nxt == "w":  # aw ow uw -> ă ơ ư
            out.append(c)
            i += 2
        elif c == "w":  # w alone -> ư
            out.append("u")
            i += 1
        elif (
            c in _TELEX_TONES
            and not tone
            and out
            and (out[-1] in _VOWELS or (i == len(w) - 1 and _VOWELS.intersection(out)))
        ):
            tone = True
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _vni(w: str) -> str:
    """Base letters of a lower-case ASCII word typed in VNI: 'd9ong2' -> 'dong', 'huy3' -> 'huy'."""
    return "".join(c for c in w if c not in _VNI_DIGITS)


def variants(core: str, max_chars: int = MAX_WORD_CHARS) -> tuple[Word, ...]:
    """Readings of one word: as written first, then Telex, VNI and 0-for-o decodings.

    A decoded reading keeps only its base letters (marks ``None``: any keyword marks fit):
    residue is often incomplete ('d9ong2' lacks the circumflex of đồng).
    """
    if len(core) > max_chars:
        return ()  # no keyword is that long; spares a 5,000-character word the decoding
    found = [signature(core)]
    low = core.lower()
    if low.isascii() and low.isalnum() and low[0].isalpha():
        bases = []
        for w in dict.fromkeys((low, low.replace("0", "o"))):
            if w.isalpha():
                bases += [w, _telex(w)]
            elif "0" not in w:
                bases.append(_vni(w))
        if not low.isalpha():
            bases.append(low.translate(_LEET))
        found += [(b, None) for b in bases if b.isalpha()]
    return tuple(dict.fromkeys(found))


def word_matches(variants: Iterable[Word], word: Word) -> bool:
    """An unaccented or decoded word fits any marks; an accented word must fit them exactly,
    except that a plain d may stand for đ ('dồng ý'). 'đừng' (don't) is not 'dừng' (stop)."""
    base, marks = word
    return any(b == base and (not m or m == marks or m == without_stroke(marks))
               for b, m in variants)


def without_stroke(marks: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if not marks or STROKE not in marks:
        return None
    rest = list(marks)
    rest.remove(STROKE)
    return tuple(rest)


def core_span(token: str) -> tuple[int, int]:
    """Span of ``token`` without leading/trailing punctuation, quotes, symbols and emoji."""
    start, end = 0, len(token)
    while start < end and not (token[start].isalnum() or is_mark(token[start])):
        start += 1
    while end > start and not (token[end - 1].isalnum() or is_mark(token[end - 1])):
        end -= 1
    return start, end
