"""Where the voice line finds its prompt texts and sound files.

Rendered prompts live in ``settings.audio_dir``; staff recordings (``<key>.mp3`` / ``<key>.wav``)
in its ``recorded`` subdirectory, where they beat any synthesis. The texts are the catalogue of
the Hanoi calendar day (figures change on their valid-from dates), built once per day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from audio.catalogue import build_catalogue
from audio.recordings import BROADCAST_NAME
from audio.render import content_type, etag_for
from hotline import clock

RECORDED_SUBDIR = "recorded"
# Voice broadcasts' staff recordings (``audio.recordings.save_broadcast_recording``), named by
# their content: a name never changes its sound, so they are cached like rendered prompts.
BROADCAST_SUBDIR = "broadcasts"
_RENDERED = re.compile(r"^[a-z0-9_]+-[0-9a-f]{12}\.(?:mp3|wav)$")
_RECORDED = re.compile(r"^[a-z0-9_]+\.(?:mp3|wav)$")
# Rendered names change with their text, so they never go stale; staff recordings keep their
# name when replaced, so Twilio and proxies look again after a few minutes.
RENDERED_MAX_AGE = 365 * 24 * 3600
RECORDED_MAX_AGE = 300


def sound_dirs(settings) -> tuple[Path, Path]:
    """(rendered files, staff recordings)."""
    out = Path(settings.audio_dir)
    return out, out / RECORDED_SUBDIR


def broadcast_dir(settings) -> Path:
    """Where voice broadcasts' recordings are kept (and served from)."""
    return Path(settings.audio_dir) / BROADCAST_SUBDIR


@lru_cache(maxsize=4)
def catalogue_on(day: date) -> dict[str, str]:
    """The catalogue of ``day`` (cached; treat as read-only)."""
    return build_catalogue(day)


def catalogue_at(now: datetime) -> dict[str, str]:
    """The catalogue valid at the instant ``now``."""
    return catalogue_on(clock.local(now).date())


@dataclass(frozen=True)
class SoundFile:
    """A prompt's sound file as it is served: where, its type and ETag, how long to cache."""

    path: Path
    mimetype: str
    etag: str  # unquoted
    max_age: int
    immutable: bool


def sound_file(settings, name: str) -> SoundFile | None:
    """The sound file called ``name`` (a rendered prompt, a staff recording or a voice
    broadcast's recording); None for any other name or a file that is not there."""
    rendered_dir, recorded_dir = sound_dirs(settings)
    if _RENDERED.match(name):
        path, max_age = rendered_dir / name, RENDERED_MAX_AGE
    elif BROADCAST_NAME.match(name):
        path, max_age = broadcast_dir(settings) / name, RENDERED_MAX_AGE
    elif _RECORDED.match(name):
        path, max_age = recorded_dir / name, RECORDED_MAX_AGE
    else:
        return None
    try:
        etag = etag_for(path)
    except OSError:
        return None
    return SoundFile(path, content_type(path), etag.strip('"'), max_age,
                     immutable=max_age == RENDERED_MAX_AGE)
