"""The README's keypad table against the menu: every path of keys leads to the action it
names, and the SMS commands it pairs with are the member commands of the SMS table."""

from __future__ import annotations

import re

import pytest

from hotline.parser import parse
from ivr.menu import MENU, Act, choose
from tests.hotline.test_readme_commands import MEMBER, _keywords, _table

KEYS = _table("| action | SMS | keys |")


def _walk(start: str, presses: list[str]):
    """Where ``presses`` lead from ``start``; an action on the way leads on to the node it
    is followed by (``then``: consent, then how she is told)."""
    node, target = start, None
    for pressed in presses:
        assert node is not None, f"{presses}: an action that ends the call before the last key"
        target = choose(MENU, node, pressed)
        assert target is not None, f"{presses}: {pressed!r} does nothing on {node!r}"
        node = target if isinstance(target, str) else target.then
    return target


def _paths(cell: str) -> tuple[str, list[list[str]]]:
    start = MENU.first_call if cell.startswith("first call:") else MENU.root
    return start, [re.findall(r"`([^`]+)`", path) for path in cell.split(";")]


def test_the_table_has_one_row_per_member_action():
    assert len(KEYS) >= 9
    names = {re.findall(r"`([^`]+)`", row[0])[0] for row in KEYS}
    assert {"consent", "record_complaint", "case_status", "callback", "next_meeting",
            "info_*", "opt_out", "erase_request", "emergency"} <= names


def test_every_path_of_keys_reaches_the_action_it_names():
    for action, _, keys in KEYS:
        name = re.findall(r"`([^`]+)`", action)[0]
        start, paths = _paths(keys)
        for presses in paths:
            target = _walk(start, presses)
            if name.endswith("*"):
                assert isinstance(target, str) and target.startswith(name[:-1]), presses
            else:
                assert isinstance(target, Act) and target.name == name, (presses, target)


def test_each_sms_command_is_a_member_command_and_information_pairs_one_to_one():
    member = {kw for row in MEMBER for kw in _keywords(row[0])}
    for action, sms, keys in KEYS:
        commands = [kw for kw in re.findall(r"`([^`]+)`", sms)]
        assert set(commands) <= member, commands
        for kw in commands:
            assert parse(kw if kw != "KN" else "KN 1 x").name == kw
        if "info_" in action:
            _, paths = _paths(keys)
            leaves = [_walk(MENU.root, p) for p in paths]
            assert len(leaves) == len(commands) == len(set(leaves))


def test_the_walk_fails_on_a_wrong_key():
    with pytest.raises(AssertionError, match="does nothing"):
        _walk(MENU.root, ["3", "8"])
