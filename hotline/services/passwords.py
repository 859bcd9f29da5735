"""The rule every console password follows, wherever it is set (console, CLI, seed).

At least ``MIN_LENGTH`` characters, no control or invisible characters, not the user name,
not a password from the shipped list of common ones (``hotline/data/common_passwords.txt``,
Vietnamese ones included), not one character repeated. ``check`` raises
``PasswordRefused`` with a message id the console translates.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from hotline.services.errors import N_, ServiceError
from hotline.text import fold

MIN_LENGTH = 10
MAX_LENGTH = 200
COMMON = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"


class PasswordRefused(ServiceError):
    """``str(exc)`` is the message id saying why."""


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON.read_text(encoding="utf-8").splitlines()
    return frozenset(_key(line) for line in lines if line.strip() and not line.startswith("#"))


def _key(password: str) -> str:
    """Lower case, no accents, no spaces: "Mật khẩu 123" is "matkhau123"."""
    return fold(password).replace(" ", "")


def check(password: str, username: str = "") -> None:
    """Refuse ``password`` unless it follows the rule (see the module docstring)."""
    if len(password) < MIN_LENGTH or len(password) > MAX_LENGTH:
        raise PasswordRefused(N_("A password needs at least 10 characters."))
    # Cc (NUL, newlines, escapes), Cf (zero-width and direction marks), Cs, Co, Cn.
    if any(unicodedata.category(ch).startswith("C") for ch in password):
        raise PasswordRefused(N_("A password cannot hold control or invisible characters."))
    key = _key(password)
    # The user name, or it with a few characters around it ("admin2026").
    name = _key(username)
    if name and name in key and len(key) - len(name) < 5:
        raise PasswordRefused(N_("The password cannot be the user name."))
    if key in common_passwords() or len(set(key)) < 4:
        raise PasswordRefused(N_("This password is too common. Choose a less obvious one."))
