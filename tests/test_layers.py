"""The layering of ARCHITECTURE.md, checked on every import in the code (function-level
ones included): the core imports no door, no door imports another, the scheduler imports only
the core, and audio/ (prompts) imports neither the voice door nor any other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"hotline", "sms", "ivr", "console", "scheduler", "audio", "web", "app", "cli", "bench",
        "tests"}
DOORS = {"sms", "ivr", "console"}

# package -> the packages of ours it may import (besides itself)
ALLOWED = {
    "hotline": set(),
    "web": {"hotline"},  # what the web doors share: the Runtime, Twilio signatures
    "audio": {"hotline"},
    "scheduler": {"hotline"},
    "sms": {"hotline", "web"},
    "ivr": {"hotline", "web", "audio"},
    "console": {"hotline", "web", "audio"},
}
# Third-party packages the core keeps out of (the Twilio adapter is the one place for twilio).
CORE_NEVER = {"flask", "flask_login", "flask_wtf", "flask_babel", "twilio", "apscheduler"}
CORE_TWILIO_ADAPTER = Path("hotline/gateways/twilio.py")


def imports_of(path: Path) -> set[str]:
    """Top-level names of every module ``path`` imports, anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_the_layers_below_it(package):
    bad = []
    for path in files(package):
        ours = (imports_of(path) & OURS) - {package}
        for name in sorted(ours - ALLOWED[package]):
            bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "\n".join(bad)


def test_the_core_imports_neither_flask_nor_twilio_nor_the_scheduler_library():
    bad = []
    for path in files("hotline"):
        rel = path.relative_to(ROOT)
        never = CORE_NEVER - ({"twilio"} if rel == CORE_TWILIO_ADAPTER else set())
        bad += [f"{rel} imports {name}" for name in sorted(imports_of(path) & never)]
    assert not bad, "\n".join(bad)


def test_no_door_imports_another_door():
    for door in DOORS:
        assert not (ALLOWED[door] & DOORS), door
        for path in files(door):
            assert not (imports_of(path) & (DOORS - {door})), path


def test_the_checker_sees_a_forbidden_import(tmp_path):
    """The walk finds imports inside functions too (a check that can fail)."""
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    from sms import views\n    import console.queries\n")
    assert imports_of(sample) == {"sms", "console"}
