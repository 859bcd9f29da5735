"""Fuzzing the SMS keyword parser: any body, and bodies built from its own vocabulary.

Random text rarely reaches the keyword paths, so a second strategy glues keywords, their
Telex/VNI residue, numbers, group codes, courtesy words and punctuation together. Whatever
comes in, ``parse`` returns a well-formed ``Command`` quickly and never raises.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.parser import (
    FILLERS,
    KEYWORDS,
    MAX_NUMBER_DIGITS,
    NUMBER_WORDS,
    OPT_OUT_MESSAGES,
    PARTICLES,
    PRONOUNS,
    Command,
    parse,
)
from tests.faults.support import examples

NAMES = set(KEYWORDS) | {"CHOICE", "EMPTY", "TEXT"}
SYNONYMS = sorted({syn for _, syns in KEYWORDS.values() for syn in syns} | set(OPT_OUT_MESSAGES))
ANY_CHAR = st.one_of(st.characters(codec=None), st.characters(categories=["Cs"]))
VOCABULARY = st.one_of(
    st.sampled_from(SYNONYMS),
    st.sampled_from(SYNONYMS).map(str.upper),
    st.sampled_from(SYNONYMS).map(lambda s: s.replace(" ", "")),
    st.sampled_from(["huyr", "huy3", "ddoongf ys", "d9ong2 y1", "tt#12", "kn3", "NHAN45",
                     "h0p", "tra3", "CD01", "cd-01", "PT.1", "LUAT", "123456789012"]),
    st.sampled_from(sorted(FILLERS | NUMBER_WORDS | set(PARTICLES) | set(PRONOUNS))),
    st.integers(0, 10**12).map(str),
    st.text(ANY_CHAR, max_size=8),
)
SEPARATOR = st.sampled_from(["", " ", "  ", ",", ", ", ".", ":", "-", "#", "\n", "\t", "!", "?",
                             "\u00a0", "\u3000", "😊"])
BUILT = st.lists(st.tuples(VOCABULARY, SEPARATOR), max_size=10).map(
    lambda parts: "".join(w + sep for w, sep in parts))
ANY_BODY = st.one_of(BUILT, st.text(ANY_CHAR, max_size=300))
FUZZ = settings(max_examples=examples(500), deadline=None)


def well_formed(cmd: Command, body: str) -> None:
    assert isinstance(cmd, Command) and cmd.name in NAMES
    if cmd.number is not None:
        assert 0 <= cmd.number < 10 ** max(MAX_NUMBER_DIGITS, 6)
    if cmd.category is not None:
        assert cmd.name in ("KN", "CG") and 1 <= cmd.category <= 12
    assert cmd.code == cmd.code.upper() and len(cmd.code) <= len(body)
    if cmd.name == "TEXT":
        assert cmd.text == body.strip()
    elif cmd.text:
        assert cmd.text in body
    if cmd.name == "EMPTY":
        assert not body.strip()


@FUZZ
@given(ANY_BODY)
def test_parse_any_body_gives_a_well_formed_command(body):
    well_formed(parse(body), body)
    assert parse(body) == parse(body)


@FUZZ
@given(st.sampled_from(KEYWORDS["HUY"][1]), SEPARATOR, ANY_BODY)
def test_an_opt_out_word_first_wins_over_anything_after_it(word, sep, rest):
    """Whatever follows the word, after a space or punctuation (typed with no space, too:
    "Huy,cam on" was read as a story before)."""
    body = word + (sep or " ") + rest
    assert parse(body).name == "HUY", body


@pytest.mark.parametrize("body", [
    "Huy,cam on", "hủy,bhxh", "HUY-A", "STOP!pls", "tu choi,cam on", "dừng;em", "TC.nhe",
    "ngung😊", "Dung/em",
])
def test_opt_out_with_punctuation_and_no_space(body):
    assert parse(body).name == "HUY"


@pytest.mark.parametrize("body", ["đúng,em đồng ý", "Dũng,ok", "đừng,em sợ", "dùng,được"])
def test_punctuation_does_not_make_other_words_opt_out(body):
    assert parse(body).name != "HUY"


@pytest.mark.parametrize("body", [
    "tt" * 3000,
    "1" * 20000,
    "dd" * 5000 + "1",
    "huy" + "r" * 5000,
    "KN " + "9" * 5000,
    ("đăng ký " * 800).strip(),
    "a#1" * 3000,
    ("? " * 5000) + "x",
    "\u0301" * 10000,
    ("ô" + "\u0323" * 50) * 200,
    "😊" * 5000,
])
def test_hostile_long_bodies_parse_quickly(body):
    started = time.perf_counter()
    well_formed(parse(body), body)
    assert time.perf_counter() - started < 2.0  # linear; a backtracking regex takes minutes
