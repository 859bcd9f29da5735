"""The README's command tables, HD and the parser say the same thing."""

from __future__ import annotations

import re
from pathlib import Path

from hotline.parser import parse
from hotline.templates import CATEGORY_WORDS, category_list, render
from hotline.text import fold
from ivr.menu import MENU, Act

ROOT = Path(__file__).resolve().parents[2]


def _table(header: str) -> list[list[str]]:
    lines = (ROOT / "README.md").read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _keywords(cell: str) -> list[str]:
    """`DK [name] [group code]`, `BHYT`, `BHXH` -> ["DK"], ["BHYT", "BHXH"]."""
    return [code.split()[0] for code in re.findall(r"`([^`]+)`", cell)]


MEMBER = _table("| member sends |")
WORKER = _table("| peer educator sends |")
HD = fold(" ".join((render("help", hotline="+84240000000"), render("help_channel"),
                    render("help_categories"))))


def test_every_member_command_in_the_readme_is_in_hd_and_parses_as_itself():
    commands = [kw for row in MEMBER if not row[0].startswith("`1`") for kw in _keywords(row[0])]
    assert len(commands) >= 12
    for kw in commands:
        if kw != "HD":  # the command list needs not name itself
            assert re.search(rf"\b{fold(kw)}\b", HD), f"HD does not tell {kw}"
        assert parse(kw if kw not in ("KN", "CG") else f"{kw} 1 noi dung").name == kw, kw


def test_every_keyword_hd_tells_is_in_the_readme():
    told = {w for w in re.findall(r"\b[A-Z]{2,}\b", render("help", hotline=""))} - {"STONES"}
    listed = {kw for row in MEMBER for kw in _keywords(row[0])}
    assert told <= listed, told - listed


def test_peer_educator_commands_in_the_readme_parse_as_themselves():
    for row in WORKER:
        for code in re.findall(r"`([^`]+)`", row[0]):
            assert parse(code).name == code.split()[0], code


def test_hd_lists_every_category_number_and_the_voice_menu_uses_the_same_codes():
    assert category_list().count(";") == len(CATEGORY_WORDS) - 1
    for code in CATEGORY_WORDS:
        assert f"{code} " in render("help_categories")
    voice = {t.args["category"] for node in MENU.nodes.values() for t in node.choices.values()
             if isinstance(t, Act) and "category" in t.args}
    assert voice <= set(CATEGORY_WORDS)
