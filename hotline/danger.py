"""Words of immediate danger, found anywhere in a text.

Pure: no database, no clock. ``detect`` reads every word of a body (accented, unaccented,
upper case, Telex or VNI residue, words run together) and says which danger phrases it found.
Nothing is rewritten or classified: the body stays as sent, and the caller raises the
emergency path (``hotline.services.emergency``) when anything is found.

A false alarm costs a coordinator one click; a missed one can cost a life, so the table leans
to raising it. Only a few everyday phrases that share letters with a danger word are set
aside (``SAFE``): ``cựu chiến binh`` (veteran) is not ``cứu``, ``danh sách`` never matched.
An accented word must carry the table's own marks: ``cửu`` (nine) and ``bí danh`` (alias) do
not match ``cứu`` and ``bị đánh``; written without accents they do, and are raised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from hotline.words import Word, core_span, signature, variants, word_matches

# Written with their proper accents; the unaccented, Telex/VNI and run-together forms match too.
DANGER: tuple[str, ...] = (
    # help
    "cứu", "cứu em", "cứu tôi", "cứu với", "cứu con", "cấp cứu", "sos",
    "113", "115",
    # in danger, afraid for one's life
    "nguy hiểm", "nguy hiễm", "sợ chết", "muốn chết", "tự sát", "muốn tự tử",
    "định tự tử", "đòi tự tử", "sẽ tự tử",
    # being beaten, attacked
    "bị đánh", "đang bị đánh", "đánh em", "đánh tôi", "đánh con", "đánh cháu", "đánh vợ",
    "đánh đập", "đánh chết", "đánh nhau", "chồng đánh", "nó đánh", "hắn đánh",
    "bố đánh", "bị đâm", "đâm em", "đâm tôi", "chém", "bóp cổ", "hành hung", "bạo hành",
    "bạo lực", "cầm dao", "dí dao",
    # threats
    "dọa giết", "đe dọa", "giết", "đòi giết",
    # sexual violence
    "hiếp", "hiếp dâm", "cưỡng hiếp", "xâm hại", "sờ soạng", "cưỡng bức",
    # held, taken
    "bắt cóc", "bị nhốt", "nhốt em", "nhốt tôi", "không cho về", "không cho ra",
)

# Everyday phrases that contain a danger word's letters but are not danger. A danger hit is set
# aside only when every word of it falls inside one of these.
SAFE: tuple[str, ...] = (
    "cựu chiến binh", "cựu học sinh", "cựu sinh viên", "cựu cán bộ", "cựu giám đốc",
    "cựu chủ tịch", "nghiên cứu", "cứu trợ", "cứu tế", "cửu long", "hiệp hội", "hiệp định",
    "hiệp sĩ", "hiệp lực", "chém gió",
)

_MAX_TOKEN = 40
_REPEATS = re.compile(r"([^\W\d])\1{2,}")
_GLUED_NUMBER = re.compile(r"([^0-9]+)([0-9]{2,})")


@dataclass(frozen=True)
class _Phrase:
    text: str
    words: tuple[Word, ...]


def _phrases(table: Iterable[str]) -> list[_Phrase]:
    out = []
    for text in table:
        words = tuple(signature(w) for w in text.split())
        out.append(_Phrase(text, words))
        if len(words) > 1:  # "cuuem", "nguyhiem": typed with no space
            joined = ("".join(b for b, _ in words), tuple(sorted(m for _, ms in words for m in ms)))
            out.append(_Phrase(text, (joined,)))
    return out


_DANGER = _phrases(DANGER)
_SAFE = _phrases(SAFE)
_FIRST: dict[str, list[_Phrase]] = {}
for _p in _DANGER + _SAFE:
    _FIRST.setdefault(_p.words[0][0], []).append(_p)


def _tokens(body: str) -> list[tuple[Word, ...]]:
    """Each word's readings (see ``hotline.words.variants``).

    Punctuation inside a word splits it ('cuu!!em', 'cuu,em'), as people type without spaces.
    """
    out = []
    for raw in re.split(r"[\s.,;:!?()\[\]{}\"'/\\|<>~*+=_#@&^%$-]+", body or ""):
        a, b = core_span(raw)
        core = raw[a:b]
        if not core:
            continue
        if core.isdigit():
            out.append(((core, ()),))
            continue
        found = variants(core, _MAX_TOKEN)
        if _REPEATS.search(core):  # "cuuuu", "sossss": letters held down in a panic
            found += variants(_REPEATS.sub(r"\1\1", core), _MAX_TOKEN)
            found += variants(_REPEATS.sub(r"\1", core), _MAX_TOKEN)
        # "goi113", "sos113": a number glued to a word is read as both (one trailing digit is
        # VNI residue: "cu7u1")
        m = _GLUED_NUMBER.fullmatch(core)
        if m:
            out.append(variants(m[1], _MAX_TOKEN) + found)
            out.append(((m[2], ()),))
            continue
        out.append(found)
    return out


def _hits(tokens, phrases_by_first) -> list[tuple[int, int, _Phrase]]:
    found = []
    for i, readings in enumerate(tokens):
        seen: set[int] = set()
        for base, _marks in readings:
            for phrase in phrases_by_first.get(base, ()):
                if id(phrase) in seen:
                    continue
                n = len(phrase.words)
                if i + n > len(tokens):
                    continue
                if all(word_matches(tokens[i + k], phrase.words[k]) for k in range(n)):
                    seen.add(id(phrase))
                    found.append((i, i + n, phrase))
    return found


_DANGER_IDS = {id(p) for p in _DANGER}


def detect(body: str) -> list[str]:
    """The danger phrases found in ``body`` (as written in ``DANGER``), first seen first;
    empty when there are none. Never raises."""
    if not body:
        return []
    tokens = _tokens(body)
    hits = _hits(tokens, _FIRST)
    safe: set[int] = set()
    for start, end, phrase in hits:
        if id(phrase) not in _DANGER_IDS:
            safe.update(range(start, end))
    out: list[str] = []
    for start, end, phrase in hits:
        if id(phrase) in _DANGER_IDS and not set(range(start, end)) <= safe:
            if phrase.text not in out:
                out.append(phrase.text)
    return out


def is_danger(body: str) -> bool:
    """Whether ``body`` holds any word of immediate danger (see ``detect``)."""
    return bool(detect(body))
