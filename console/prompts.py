"""The voice prompts as staff see them: every key the menu can play, its text today, and
where its sound comes from (a staff recording, gTTS, espeak-ng, or spoken at call time).

The folders are the voice line's own (``audio.prompts.sound_dirs``), so a recording uploaded
here is the one the line plays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app

from audio import render
from audio.prompts import catalogue_at, sound_dirs
from hotline import clock
from hotline.config import Settings

# The app.extensions key of a callable giving the prompt keys the voice menu reaches, in the
# order a caller hears them.
MENU_PROMPT_KEYS = "hotline.menu_prompt_keys"
_FILE = re.compile(r"^(?P<key>[a-z0-9_]+)(?:-[0-9a-f]{12})?\.(?:mp3|wav)$")


@dataclass(frozen=True)
class Prompt:
    key: str
    text: str
    source: str  # recorded / gtts / espeak / missing
    path: Path | None
    in_menu: bool
    # Staff member who uploaded the recording ("" when synthetic or unknown).
    recorded_by: str = ""

    @property
    def synthetic(self) -> bool:
        return self.source != render.SOURCE_RECORDED


def dirs(settings: Settings) -> tuple[Path, Path]:
    """(rendered files, staff recordings), as the voice line uses them."""
    return sound_dirs(settings)


def texts(now: datetime | None = None) -> dict[str, str]:
    """Every prompt's text on the Hanoi day of ``now``."""
    return catalogue_at(now or clock.utcnow())


def menu_keys() -> list[str]:
    """The prompts the voice menu can play, in call order. The menu is the voice door's;
    app.py hands its keys over (``MENU_PROMPT_KEYS``), so the console imports no other door."""
    return list(current_app.extensions[MENU_PROMPT_KEYS]())


def all_prompts(settings: Settings, now: datetime | None = None,
                recorders: dict[str, str] | None = None) -> list[Prompt]:
    """Every prompt: those of the menu in the order a caller hears them, then the rest."""
    out_dir, recordings_dir = dirs(settings)
    ordered = menu_keys()
    reachable = set(ordered)
    catalogue = texts(now)
    recorders = recorders or {}
    rows = []
    for key in ordered + sorted(set(catalogue) - reachable):
        text = catalogue.get(key, "")
        if text:
            path, source = render.resolve(key, text, out_dir, recordings_dir)
        else:
            path, source = render.find_recording(key, recordings_dir), render.SOURCE_MISSING
        by = recorders.get(key, "") if source == render.SOURCE_RECORDED else ""
        rows.append(Prompt(key, text, source, path, key in reachable, by))
    return rows


def find(settings: Settings, key: str) -> Prompt | None:
    return next((p for p in all_prompts(settings) if p.key == key), None)


def key_of_text(text: str, catalogue: dict[str, str]) -> str | None:
    """The prompt key whose text is ``text`` (a <Say> the line spoke), if any."""
    wanted = " ".join(text.split())
    for key, value in catalogue.items():
        if " ".join(value.split()) == wanted:
            return key
    return None


def key_of_file(name: str) -> str | None:
    """The prompt key of a sound file name (``<key>-<hash>.mp3`` or ``<key>.wav``)."""
    m = _FILE.match(name or "")
    return m.group("key") if m else None
