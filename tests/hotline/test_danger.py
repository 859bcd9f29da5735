"""Danger words anywhere in a text, in every way people type them (``hotline.danger``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.danger import DANGER, detect, is_danger
from hotline.text import unaccent
from tests.faults.support import examples

CASES = [
    tuple(line.split("\t", 1))
    for line in (Path(__file__).parent / "danger_cases.tsv").read_text("utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]


def test_the_table_has_enough_of_each():
    kinds = [kind for kind, _ in CASES]
    assert kinds.count("danger") >= 60 and kinds.count("ordinary") >= 60
    assert set(kinds) == {"danger", "ordinary"}


@pytest.mark.parametrize(("kind", "body"), CASES, ids=[b for _, b in CASES])
def test_case(kind, body):
    assert is_danger(body) is (kind == "danger"), detect(body)


@pytest.mark.parametrize("phrase", DANGER)
def test_every_phrase_raises_accented_unaccented_and_upper(phrase):
    for form in (phrase, unaccent(phrase), unaccent(phrase).upper(), f"chi oi {phrase} roi"):
        assert phrase in detect(form), form


def test_accented_words_keep_their_meaning():
    assert not is_danger("Cửu Long")  # nine, not help
    assert not is_danger("bí danh của em")  # an alias, not beaten
    assert is_danger("bi danh")  # without accents it could be "being beaten": raised


@given(st.text(max_size=300))
@settings(max_examples=examples(300), deadline=None)
def test_never_raises(body):
    assert isinstance(detect(body), list)
