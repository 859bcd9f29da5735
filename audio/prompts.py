"""Where the voice line finds its prompt texts and sound files.

Rendered prompts live in ``settings.audio_dir``; staff recordings (``<key>.mp3`` / ``<key>.wav``)
in its ``recorded`` subdirectory, where they beat any synthesis. The texts are the catalogue of
the Hanoi calendar day (figures change on their valid-from dates), built once per day.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from audio.catalogue import build_catalogue
from hotline import clock

RECORDED_SUBDIR = "recorded"


def sound_dirs(settings) -> tuple[Path, Path]:
    """(rendered files, staff recordings)."""
    out = Path(settings.audio_dir)
    return out, out / RECORDED_SUBDIR


@lru_cache(maxsize=4)
def catalogue_on(day: date) -> dict[str, str]:
    """The catalogue of ``day`` (cached; treat as read-only)."""
    return build_catalogue(day)


def catalogue_at(now: datetime) -> dict[str, str]:
    """The catalogue valid at the instant ``now``."""
    return catalogue_on(clock.local(now).date())
