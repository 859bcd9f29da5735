"""hotline.parser: the table of real-style inputs in parser_cases.tsv, plus properties."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.parser import Command, parse

CASES = Path(__file__).with_name("parser_cases.tsv")
COLUMNS = ["input", "name", "number", "category", "code", "text"]
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|t|n)")


def _decode(cell: str) -> str:
    """Decode the \\uXXXX, \\t and \\n escapes documented at the top of the .tsv file."""

    def one(m: re.Match[str]) -> str:
        code = m.group(1)
        return {"t": "\t", "n": "\n"}.get(code) or chr(int(code[1:], 16))

    return _ESCAPE.sub(one, cell)


def _load() -> list:
    lines = CASES.read_text(encoding="utf-8").split("\n")
    rows = [line for line in lines if line and not (line.startswith("#") and "\t" not in line)]
    assert rows[0].split("\t") == COLUMNS
    params = []
    for line in rows[1:]:
        cells = line.split("\t")
        assert len(cells) == len(COLUMNS), line
        body, name, number, category, code, text = cells
        expected = Command(
            name=name,
            number=int(number) if number else None,
            category=int(category) if category else None,
            code=code,
            text=_decode(text),
        )
        case_id = body[:60] or "<empty>"
        params.append(pytest.param(_decode(body), expected, id=case_id))
    return params


TABLE = _load()


def test_table_is_big_enough():
    assert len(TABLE) >= 170


@pytest.mark.parametrize(("body", "expected"), TABLE)
def test_table(body: str, expected: Command):
    assert parse(body) == expected


# --- properties -------------------------------------------------------------------------------

OPT_OUT_WORDS = [
    "HUY", "huy", "Huy", "hủy", "huỷ", "HỦY", "TC", "tc", "TU CHOI", "tu choi", "từ chối",
    "Từ chối", "DUNG", "dung", "dừng", "Dừng", "NGUNG", "ngung", "ngừng", "ngưng", "STOP",
    "stop", "huyr", "huy3",
]
# Letters, digits, Vietnamese, punctuation, emoji, control characters (NUL included).
ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("aăâđeêioôơuưy ạảãàáĐÀ0123456789#*?.,:\x00\t\n😊")),
    ),
    max_size=300,
)


@given(ANY_TEXT)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_parse_never_raises(body: str):
    cmd = parse(body)
    assert isinstance(cmd, Command)
    if cmd.category is not None:
        assert 1 <= cmd.category <= 12


@given(ANY_TEXT)
@settings(max_examples=400)
def test_text_is_the_body_exactly(body: str):
    cmd = parse(body)
    if cmd.name == "TEXT":
        assert cmd.text == body.strip()
    else:
        assert cmd.text == "" or cmd.text in body


@given(
    st.sampled_from(OPT_OUT_WORDS),
    st.sampled_from(["", " ", "  ", ". ", "! ", ", ", "\n"]),
    ANY_TEXT,
)
@settings(max_examples=300)
def test_opt_out_word_first_always_wins(word: str, sep: str, rest: str):
    assert parse(word + sep + (" " + rest if rest else "")).name == "HUY"


@pytest.mark.parametrize(
    "body",
    [
        "a" * 5000,
        "ă" * 5000,
        "1" * 5000,
        "TT" + "1" * 5000,
        "KN 3 " + "bị thu hàng " * 420,
        "😊" * 5000,
        "\x00" * 5000,
        " ".join(["co"] * 2500),
        "DK " + "Lan " * 1250,
        "d9" * 2500,
    ],
    ids=lambda b: f"{b[:8]!r}x{len(b)}",
)
def test_long_bodies(body: str):
    cmd = parse(body)
    if cmd.name == "TEXT":
        assert cmd.text == body.strip()


def test_long_story_with_numbers_keeps_text():
    story = "KN 1 " + "Em bi thu hang lan thu 2, tt noi dung lai. " * 120
    cmd = parse(story)
    assert (cmd.name, cmd.category) == ("KN", 1)
    assert cmd.text == story[5:].strip()
