"""Keyword parser for inbound SMS: body text in, one ``Command`` out.

Pure: no database, no Flask, no clock. The service layer decides what a command means in
context (an RSVP, a consent question, a follow-up); this module only recognises it.

How a body is read (see DOMAIN.md, "How people text"):

1. Empty or whitespace only -> ``EMPTY``; just a number (``2``, `` 2 ``, ``2.``) -> ``CHOICE``;
   only question marks -> ``HD``.
2. Opt-out wins: if the first word (or ``từ chối``) is an opt-out word, the message is ``HUY``
   whatever follows, even with no space after it (``Huy,cam on``). A short message that is only
   an opt-out phrase (``không nhận tin nữa``, ``em muốn hủy ạ``) is ``HUY`` too. A story that
   merely contains ``dung`` later stays ``TEXT``.
3. Otherwise the longest keyword phrase at the start is looked up in ``KEYWORDS`` and its
   arguments are parsed. A keyword without arguments only counts when nothing but courtesy
   words follow (``có ạ``, ``gọi lại cho em nhé``); ``Có người thu hàng của em`` is a story.
4. Anything else is ``TEXT`` with the body exactly as sent (stripped). Free text is never
   corrected or classified.

Words are compared on their folded base (``hotline.text.fold``) *and* their marks: an
unaccented word matches any accented keyword, but an accented word must carry the keyword's
own marks (a plain d may stand for đ). ``dung`` and ``dừng`` are opt-out; ``đúng`` (correct),
``dùng`` (use), ``đừng`` (don't) and ``Dũng`` (a name) are not. Telex residue (``huyr``,
``ddoongf ys``) and VNI residue (``huy3``, ``d9ong2 y1``) are reduced to their base letters, and
``0`` for ``o`` is undone; residue marks are often incomplete, so a decoded word matches on its
letters alone.
A number glued to a keyword (``TT123``, ``NHAN45``, ``KN3``) is tried before VNI decoding, so
``tra3`` is ``TRA 3``, not ``trả``.

To add a keyword or synonym, edit ``KEYWORDS`` below (write synonyms with their proper
accents; the unaccented form, the Telex/VNI forms and the glued ``dongy`` form come for free).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from itertools import islice

from hotline.categories import Category
from hotline.text import fold
from hotline.words import Word, variants
from hotline.words import core_span as _core_span
from hotline.words import signature as _signature
from hotline.words import word_matches as _word_matches

# Argument shapes.
NONE = "none"  # no argument; only courtesy words (FILLERS) may follow
INFO = "info"  # an information keyword: courtesy or question words may follow ("bhyt la gi")
STRICT = "strict"  # no argument; only punctuation and a few particles may follow
REST = "rest"  # anything may follow; it becomes ``text`` (opt-out)
NAME = "name"  # DK: optional name (text) and/or group code (code)
CATEGORY = "category"  # KN, CG: optional category 1-12, then free text
CATEGORY_NUMBERS = frozenset(int(c) for c in Category)
CASE = "case"  # optional case number; only courtesy words after it
CASE_NOTE = "case_note"  # case number, then a free-text note
CASE_CODE = "case_code"  # case number, provider code, optional note
_NUMBER_SHAPES = frozenset({CASE, CASE_NOTE, CASE_CODE, CATEGORY})

# canonical name -> (argument shape, synonyms). Synonyms are written with their proper accents;
# put opt-out first. Multi-word synonyms also match with the spaces left out ("dongy").
KEYWORDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "HUY": (REST, ("hủy", "tc", "từ chối", "dừng", "ngừng", "ngưng", "stop", "unsubscribe")),
    "XOA": (NONE, ("xóa", "xóa dữ liệu", "xóa thông tin", "xóa hết", "xóa tên")),
    "DK": (NAME, ("dk", "đk", "dky", "dki", "đăng ký", "đăng kí")),
    "DONGY": (NONE, ("đồng ý", "dy", "ok", "oke", "okay", "okie")),
    "KHONG": (NONE, (
        "không", "ko", "k", "kg", "kh", "khg", "hông", "hok", "no", "không đồng ý",
        "không tham gia", "không đi được", "không đến được", "không đi", "không đến",
        "bận không đi được", "bận không đến được", "chưa xong", "chưa được", "chưa giải quyết",
        "vẫn chưa xong", "chưa",
    )),
    "CO": (NONE, (
        "có", "c", "vâng", "dạ", "ừ", "uh", "yes", "có tham gia", "sẽ đến", "sẽ đi", "đi được",
        "đến được", "có đi", "có đến", "xong rồi", "đã xong", "được rồi", "giải quyết rồi",
    )),
    "KN": (CATEGORY, ("kn", "khiếu nại", "phản ánh")),
    "CG": (CATEGORY, ("cg", "cần giúp", "cần giúp đỡ", "cần hỗ trợ")),
    "TT": (CASE, ("tt", "trạng thái", "tình trạng")),
    "GOI": (NONE, ("gọi", "gọi lại", "gọi điện", "gọi tôi")),
    "HOP": (NONE, ("họp", "lịch họp", "họp nhóm", "cuộc họp", "buổi họp")),
    # How she is told (notices): by a call she listens to, by SMS, or both. Not "GOI": that
    # asks for a call back.
    "NGHE": (NONE, ("nghe", "nghe gọi", "nghe điện thoại", "báo qua cuộc gọi")),
    "TIN": (NONE, ("tin", "tin nhắn", "báo qua tin nhắn")),
    "CAHAI": (NONE, ("cả hai", "cả 2")),
    "BHYT": (INFO, ("bhyt", "bảo hiểm y tế", "thẻ bhyt")),
    "BHXH": (INFO, ("bhxh", "bảo hiểm xã hội", "bhxh tự nguyện", "bảo hiểm xã hội tự nguyện")),
    "TAMTRU": (INFO, ("tạm trú", "đăng ký tạm trú", "đăng kí tạm trú")),
    "PHAPLY": (INFO, (
        "pháp lý", "luật", "luật sư", "trợ giúp pháp lý", "tư vấn pháp lý", "tư vấn luật",
    )),
    "TRATTU": (NONE, ("trật tự", "trật tự đô thị", "quyền khi bị phạt")),
    "BINHDANG": (NONE, ("bình đẳng", "bình đẳng giới")),
    "ANTOAN": (NONE, ("an toàn", "kế hoạch an toàn")),
    "HD": (STRICT, ("hd", "hướng dẫn", "giúp", "trợ giúp", "help", "menu")),
    "NHAN": (CASE, ("nhận",)),
    "GHI": (CASE_NOTE, ("ghi", "ghi chú")),
    "CHUYEN": (CASE_CODE, ("chuyển",)),
    "XONG": (CASE_NOTE, ("xong",)),
    "TRA": (CASE, ("trả", "trả lại")),
    "DS": (NONE, ("ds", "danh sách")),
    "DD": (REST, ("dd", "điểm danh")),
    "KQ": (CASE_CODE, ("kq", "kết quả")),
    "BB": (REST, ("bb", "biên bản")),
}

# A short message that is only one of these (after leading LEADING_WORDS and before trailing
# FILLERS) is an opt-out even though its first word is not an opt-out word.
OPT_OUT_MESSAGES: tuple[str, ...] = (
    "xin hủy", "xin dừng", "muốn hủy", "muốn dừng", "hủy đăng ký", "bỏ đăng ký",
    "không nhận tin", "không nhận tin nữa", "không nhận tin nhắn nữa", "không nhận nữa",
    "không nhắn tin nữa", "không muốn nhận tin", "không muốn nhận tin nữa",
    "không muốn nhận tin nhắn nữa", "đừng nhắn tin nữa", "đừng nhắn nữa", "đừng gửi tin nữa",
    "đừng gửi nữa", "đừng gửi tin nhắn nữa", "thôi đừng nhắn nữa", "thôi không nhận nữa",
    "thôi không nhận tin nữa", "thôi không nhận tin", "thôi đừng nhắn tin nữa",
    "không muốn nhận nữa", "đừng nhắn tin cho tôi nữa", "đừng nhắn cho em nữa",
    "đừng nhắn tin cho em nữa", "ngừng gửi tin", "ngừng nhắn tin", "bỏ nhận tin",
    "thôi không nhận tin nhắn nữa", "không nhận tin nhắn",
)

# Yes-particles that may open a reply before the real keyword: "dạ không", "vâng đồng ý".
PARTICLES: tuple[str, ...] = ("dạ", "vâng", "ừ", "uh", "ừm")
# Pronouns that may open a yes/no reply: "em đồng ý", "tôi không", "dạ con có ạ".
PRONOUNS: tuple[str, ...] = ("em", "tôi", "mình", "con", "cháu")
REPLY_KEYWORDS = frozenset({"CO", "KHONG", "DONGY"})
# Words dropped at the start before comparing with OPT_OUT_MESSAGES (folded).
LEADING_WORDS = frozenset({"da", "vang", "u", "uh", "em", "toi", "minh", "chi", "anh", "co",
                           "oi", "lam", "on"})
# Courtesy words allowed after a keyword without arguments (folded, so accents do not matter).
FILLERS = frozenset({
    "a", "ah", "ak", "nhe", "nha", "nhen", "nhi", "ne", "ha", "hen", "oi", "voi", "gium", "giup",
    "ho", "em", "anh", "chi", "co", "toi", "minh", "ban", "cho", "lai", "luon", "di", "den",
    "ok", "cam", "on", "thanks", "thank", "you", "tks", "thx", "nhieu", "cua",
})
# After HD ("giúp"): a bare plea like "giúp tôi với" goes to a person, not to the help menu.
STRICT_FILLERS = frozenset({"a", "ah", "nhe", "nha", "oi"})
# Words that may stand between a keyword and its case number: "TT so 123", "TT mã 123".
NUMBER_WORDS = frozenset({"so", "ma", "no"})
# ... and up to three of these before them: "tình trạng hồ sơ 1001", "TT ho so cua em 1001".
NUMBER_LEAD = NUMBER_WORDS | {"ho", "cua", "em", "toi", "minh", "chi"}
# Question words after an information keyword: "bhyt là gì", "tạm trú làm sao", "BHXH ?".
QUESTION_WORDS = frozenset({"la", "gi", "sao", "the", "nao", "lam", "o", "dau", "hoi", "ve",
                            "muon", "biet", "them", "duoc", "khong", "ko", "nhu", "can"})
# What may follow the digit of an answer to a follow-up question: "2 chưa xong".
CHOICE_WORDS = frozenset({"chua", "xong", "roi", "da", "a", "duoc", "giai", "quyet", "van",
                          "ok", "nhe", "nha", "cam", "on", "co", "khong", "ko"})
# Before a name after DK: "đăng ký tên Lan", "dk ten la Mai".
NAME_LEAD = frozenset({"ten", "la", "em", "toi"})

MAX_CHOICE_DIGITS = 6  # a longer bare number is probably a phone number: TEXT
MAX_NUMBER_DIGITS = 9
MAX_KEYWORD_CHARS = 40

_TOKEN = re.compile(r"\S+")
_CHOICE = re.compile(rf"[#*]?\s*([0-9]{{1,{MAX_CHOICE_DIGITS}}})\s*[.)!,;:#]?")
_QUESTION = re.compile(r"[?？]+")
_CHOICE_SAID = re.compile(r"[#*]?\s*([1-3])\s*[.):,;-]?\s+(\S.{0,60})")
_WORD = re.compile(r"\w+")
# Bounded repeats keep these linear on a 5,000-character word.
_GLUED = re.compile(r"(?P<kw>[^0-9]{1,24}?)[#:.\-_/]*[0-9]")
_NUMBER = re.compile(r"(?P<pre>[^0-9]{0,12}?)(?P<num>[0-9]+)")
_GROUP_CODE = re.compile(r"([A-Za-z]{2,4})[-_.]?([0-9]{1,3})[.,;]?")
_SEPARATORS = " \t\r\n:;,.-–—#/)>]|"

@dataclass(frozen=True)
class Command:
    """One parsed SMS. ``name`` is a canonical keyword, ``CHOICE``, ``EMPTY`` or ``TEXT``."""

    name: str
    number: int | None = None  # case number, or the digits of a CHOICE
    category: int | None = None  # 1-12, for KN and CG
    text: str = ""  # free-text part exactly as sent, stripped (whole body for TEXT)
    code: str = ""  # group code for DK, provider code for CHUYEN; upper case


# --- words ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    start: int  # offsets in the body
    end: int
    core_start: int
    core: str

    @cached_property
    def variants(self) -> tuple[Word, ...]:
        return variants(self.core, MAX_KEYWORD_CHARS)


def _iter_tokens(body: str, pos: int) -> Iterator[_Token]:
    """Words from ``pos`` on that contain a letter or digit (pure punctuation is skipped)."""
    for m in _TOKEN.finditer(body, pos):
        a, b = _core_span(m.group())
        if a < b:
            yield _Token(m.start(), m.end(), m.start() + a, m.group()[a:b])


def _tokens(body: str, pos: int, limit: int) -> list[_Token]:
    return list(islice(_iter_tokens(body, pos), limit))


# --- the phrase table -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Phrase:
    canon: str
    words: tuple[Word, ...]
    spelled: bool  # written out in words ("đăng ký"), not an abbreviation ("dk")


def _phrases(canon: str, synonyms: Iterable[str]) -> list[_Phrase]:
    out = []
    for syn in synonyms:
        words = tuple(_signature(w) for w in syn.split())
        out.append(_Phrase(canon, words, len(words) > 1))
        if len(words) > 1:
            joined = ("".join(b for b, _ in words), tuple(sorted(m for _, ms in words for m in ms)))
            out.append(_Phrase(canon, (joined,), True))
    return out


_PHRASES = [p for canon, (_, syns) in KEYWORDS.items() for p in _phrases(canon, syns)]
_OPT_OUT_PHRASES = _phrases("HUY", KEYWORDS["HUY"][1]) + _phrases("HUY", OPT_OUT_MESSAGES)
_PARTICLES = [_signature(w) for w in PARTICLES]
_PRONOUNS = [_signature(w) for w in PRONOUNS]
_MAX_WORDS = max(len(p.words) for p in _PHRASES + _OPT_OUT_PHRASES)


def _phrase_hits(
    toks: list[_Token], i: int, phrases: Iterable[_Phrase], literal: bool
) -> list[_Phrase]:
    """Phrases that match the words from ``toks[i]`` on, longest first."""
    hits = []
    if i >= len(toks):
        return hits
    first = {b for b, _ in (toks[i].variants[:1] if literal else toks[i].variants)}
    for p in phrases:
        if p.words[0][0] not in first:
            continue
        n = len(p.words)
        if i + n > len(toks):
            continue
        ok = True
        for k in range(n):
            tok = toks[i + k]
            variants = tok.variants[:1] if literal else tok.variants
            if not _word_matches(variants, p.words[k]):
                ok = False
                break
        if ok:
            hits.append(p)
    return sorted(hits, key=lambda p: -len(p.words))


# --- arguments --------------------------------------------------------------------------------


def _only_fillers(body: str, pos: int, fillers: frozenset[str]) -> bool:
    return all(fold(t.core) in fillers for t in _iter_tokens(body, pos))


def _text_from(body: str, pos: int) -> str:
    """The free text from ``pos`` on, as sent, without a leading separator like ':' or '-'."""
    return body[pos:].lstrip(_SEPARATORS).strip()


def _take_number(body: str, pos: int) -> tuple[int, int] | None:
    """A case number at ``pos`` ('123', '#123', 'so 123', 'số: 123') -> (number, end offset)."""
    toks = _tokens(body, pos, limit=5)
    skipped = 0
    while toks and skipped < 4 and fold(toks[0].core) in NUMBER_LEAD and len(toks) > 1:
        toks, skipped = toks[1:], skipped + 1
    if not toks:
        return None
    tok = toks[0]
    m = _NUMBER.match(body, tok.start, tok.end)
    if not m or fold(m["pre"]).strip("#:.-_/ ") not in NUMBER_WORDS | {""}:
        return None
    if len(m["num"]) > MAX_NUMBER_DIGITS:
        return None
    return int(m["num"]), m.end()


def _group_code(token: str) -> str:
    m = _GROUP_CODE.fullmatch(token)
    return (m[1] + m[2]).upper() if m else ""


def _looks_like_name(text: str) -> bool:
    """For a spelled-out 'đăng ký ...': 'Nguyễn Thị Lan' is a name, 'tạm trú ở đâu?' is not."""
    words = text.split()
    return (
        len(words) <= 6
        and not any(c.isdigit() or c == "?" for c in text)
        and all(w[0].isupper() for w in words)
        and not {fold(w) for w in words} & {"bhyt", "bhxh"}
    )


def _name_and_code(body: str, pos: int, spelled: bool) -> Command | None:
    text = _text_from(body, pos)
    code = ""
    words = text.split()
    if words and _group_code(words[-1]):
        code = _group_code(words[-1])
        text = text[: text.rindex(words[-1])].rstrip(_SEPARATORS)
    elif words and _group_code(words[0]):
        code = _group_code(words[0])
        text = _text_from(text, len(words[0]))
    words = text.split()
    while len(words) > 1 and fold(words[0]) in NAME_LEAD:  # "tên Lan", "tên là Mai"
        text = _text_from(text, len(words[0]))
        words = text.split()
    if spelled and text and not _looks_like_name(text):
        return None
    return Command("DK", text=text, code=code)


def _arguments(phrase: _Phrase, body: str, pos: int) -> Command | None:
    """Parse what follows the keyword at ``pos``; None if it does not fit (then it is TEXT)."""
    canon = phrase.canon
    shape = KEYWORDS[canon][0]
    if shape == REST:
        return Command(canon, text=_text_from(body, pos))
    if shape in (NONE, STRICT, INFO):
        fillers = {STRICT: STRICT_FILLERS, INFO: FILLERS | QUESTION_WORDS}.get(shape, FILLERS)
        return Command(canon) if _only_fillers(body, pos, fillers) else None
    if shape == NAME:
        return _name_and_code(body, pos, phrase.spelled)
    number = _take_number(body, pos)
    if shape == CATEGORY:
        if number and number[0] in CATEGORY_NUMBERS:
            return Command(canon, category=number[0], text=_text_from(body, number[1]))
        return Command(canon, text=_text_from(body, pos))
    if number is None:
        # "Nhận tin rồi", "Xong rồi họ lấy hết hàng": a sentence, not a command.
        return Command(canon) if _only_fillers(body, pos, FILLERS) else None
    n, pos = number
    if shape == CASE:
        return Command(canon, number=n) if _only_fillers(body, pos, FILLERS) else None
    code = ""
    if shape == CASE_CODE:
        toks = _tokens(body, pos, limit=1)
        if toks:
            code = fold(toks[0].core).upper()
            pos = toks[0].end
    return Command(canon, number=n, code=code, text=_text_from(body, pos))


def _match(
    body: str, toks: list[_Token], i: int, phrases: list[_Phrase]
) -> Command | None:
    """The command whose keyword starts at ``toks[i]``, trying the literal spelling first,
    then a number glued to the keyword (TT123), then Telex/VNI/0-for-o decodings."""
    if i >= len(toks):
        return None
    for literal in (True, False):
        for p in _phrase_hits(toks, i, phrases, literal):
            cmd = _arguments(p, body, toks[i + len(p.words) - 1].end)
            if cmd:
                return cmd
        if literal:
            cmd = _match_glued(body, toks[i], phrases, _NUMBER_SHAPES)
            if cmd:
                return cmd
    return _match_glued(body, toks[i], phrases, frozenset({REST}))


def _match_glued(
    body: str, tok: _Token, phrases: list[_Phrase], shapes: frozenset[str]
) -> Command | None:
    """A keyword with digits glued to it: 'TT123', 'NHAN45', 'KN3', 'TT#12' (and 'hủy123')."""
    m = _GLUED.match(tok.core)
    if not m or not any(c.isalpha() for c in m["kw"]):
        return None
    kw = m["kw"]
    a, b = _core_span(kw)
    kw_tok = _Token(tok.core_start + a, tok.core_start + b, tok.core_start + a, kw[a:b])
    for p in _phrase_hits([kw_tok], 0, phrases, literal=False):
        if KEYWORDS[p.canon][0] not in shapes:
            continue
        cmd = _arguments(p, body, tok.core_start + m.end("kw"))
        if cmd:
            return cmd
    return None


def _is_opt_out_message(body: str) -> bool:
    """A short message that is only an opt-out phrase, with courtesy words around it."""
    toks = _tokens(body, 0, limit=12)
    if len(toks) >= 12:
        return False
    while toks and fold(toks[0].core) in LEADING_WORDS:
        toks = toks[1:]
    while toks and fold(toks[-1].core) in FILLERS:
        toks = toks[:-1]
    return any(len(p.words) == len(toks) for p in _phrase_hits(toks, 0, _OPT_OUT_PHRASES, False))


# --- entry point ------------------------------------------------------------------------------

_OPT_OUT_ONLY = [p for p in _PHRASES if p.canon == "HUY"]
_NOT_OPT_OUT = [p for p in _PHRASES if p.canon != "HUY"]
_REPLIES = [p for p in _PHRASES if p.canon in REPLY_KEYWORDS]


def parse(body: str) -> Command:
    """Read one inbound SMS body. Never raises; unknown input is TEXT."""
    if body is None:
        body = ""
    stripped = body.strip()
    if not stripped:
        return Command("EMPTY")
    m = _CHOICE.fullmatch(stripped)
    if m:
        return Command("CHOICE", number=int(m[1]))
    m = _CHOICE_SAID.fullmatch(stripped)
    if m and all(fold(w) in CHOICE_WORDS for w in _WORD.findall(m[2])):
        return Command("CHOICE", number=int(m[1]))  # "2 chưa xong", "1 xong rồi ạ"
    if _QUESTION.fullmatch(stripped):
        return Command("HD")

    toks = _tokens(body, 0, limit=_MAX_WORDS + 2)
    if toks:
        # 1. Opt-out wins: its word first, whatever follows ("HUY", "dừng lại đi", "tc 123").
        cmd = _match(body, toks, 0, _OPT_OUT_ONLY)
        if cmd:
            return cmd
        spaced = _spaced(body)
        if spaced != body:  # "Huy,cam on": punctuation typed with no space still ends a word
            cmd = _match(body, _tokens(spaced, 0, limit=_MAX_WORDS + 2), 0, _OPT_OUT_ONLY)
            if cmd:
                return cmd
        if _is_opt_out_message(body):
            return Command("HUY")
        # 2. A keyword at the start, with arguments that fit it.
        cmd = _match(body, toks, 0, _NOT_OPT_OUT)
        if cmd:
            return cmd
        # 3. "Dạ không", "Vâng, đồng ý", "Em đồng ý ạ": a reply opened by a particle/pronoun.
        cmd = _match_after_lead(body, toks)
        if cmd:
            return cmd
    return Command("TEXT", text=stripped)


def _spaced(body: str) -> str:
    """``body`` with punctuation and symbols (emoji too) replaced one for one by spaces, so
    offsets into it are offsets into ``body``."""
    return "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in body)


def _match_after_lead(body: str, toks: list[_Token]) -> Command | None:
    """Skip up to two leading particles/pronouns; after a pronoun only a yes/no counts."""
    phrases = _NOT_OPT_OUT
    i = 0
    while i < 2 and i < len(toks) - 1:
        literal = toks[i].variants[:1]
        if any(_word_matches(literal, w) for w in _PRONOUNS):
            phrases = _REPLIES  # "Em cần giúp đỡ..." is a story, "Em đồng ý" a reply
        elif not any(_word_matches(literal, w) for w in _PARTICLES):
            break
        i += 1
    return _match(body, toks, i, phrases) if i else None
