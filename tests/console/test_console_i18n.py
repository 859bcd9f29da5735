"""Every word the console shows has its Vietnamese; the catalogue compiles on its own."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from console import i18n

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "console" / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "N_": None}
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]


def _msgids() -> set[str]:
    found = set()
    # The core's services say why they refuse with N_() message ids the console shows.
    for folder in (ROOT / "console", ROOT / "hotline" / "services", ROOT / "hotline" / "queries",
                   ROOT / "audio"):
        for _filename, _line, message, _comments, _context in extract_from_dir(
                folder, METHODS, keywords=KEYWORDS):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_has_a_vietnamese_translation():
    with PO.open("rb") as f:
        catalog = read_po(f, locale="vi")
    translated = {m.id: m.string for m in catalog if m.id}
    missing = sorted(m for m in _msgids() if not translated.get(m))
    assert not missing, "add these to messages.po:\n" + "\n".join(missing)
    for msgid, text in translated.items():
        for placeholder in ("%(number)s", "%(n)s", "%(count)s", "%(name)s", "%(group)s",
                            "%(code)s", "%(dimension)s", "%(page)s", "%(pages)s"):
            assert (placeholder in msgid) == (placeholder in text), msgid


def test_catalogue_compiles_without_a_manual_step(tmp_path):
    out = Path(i18n.compile_catalogues(str(tmp_path)))
    assert (out / "vi" / "LC_MESSAGES" / "messages.mo").stat().st_size > 1000
    # Compiling again reuses the file.
    assert i18n.compile_catalogues(str(tmp_path)) == str(out)
