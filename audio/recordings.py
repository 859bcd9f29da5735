"""Staff recordings of the voice prompts: they beat synthesis where present.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import wave
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from audio import render  # sox, the same tool that renders the synthetic prompts
from hotline.models import (
    StaffUser,
)
from hotline.services.audit import audit
from hotline.services.broadcasts import Recorded
from hotline.services.errors import N_, ServiceError

PROMPT_KEY = re.compile(r"^[a-z0-9_]{1,60}$")
# How each type a staff recording may be uploaded as begins: an MP3 with its ID3 tag or an
# MPEG audio frame (11 sync bits: any version, layer and bit rate, as sox writes at 8 kHz).
RECORDING_TYPES = {".mp3": (b"ID3", *(bytes((0xFF, b)) for b in range(0xE0, 0x100))),
                   ".wav": (b"RIFF",), ".ogg": (b"OggS",)}
# What an upload may weigh: the console's request limit (``app.py``, MAX_CONTENT_LENGTH).
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
BROADCAST_PREFIX = "bc-"
BROADCAST_NAME = re.compile(r"^bc-[0-9a-f]{16}\.wav$")


def save_prompt_recording(session: Session, now: datetime, user: StaffUser,
                          recordings_dir: str | os.PathLike[str], key: str, filename: str,
                          data: bytes) -> Path:
    """Store an uploaded human recording as ``<recordings_dir>/<key>.wav``: decoded by sox
    as the type its name says and re-encoded (the upload itself is never kept nor served);
    the key's other file goes, so the new one is the one played."""
    if not PROMPT_KEY.match(key):
        raise ServiceError(N_("Unknown prompt."))
    folder = Path(recordings_dir)
    dest = folder / f"{key}{render.UPLOAD_SUFFIX}"
    store_upload(filename, data, dest)
    for other in RECORDING_TYPES:
        if other != render.UPLOAD_SUFFIX:
            (folder / f"{key}{other}").unlink(missing_ok=True)
    audit(session, now, user, "prompt_upload", "prompt", key, file=dest.name, bytes=len(data))
    return dest


def store_upload(filename: str, data: bytes, dest: Path) -> Path:
    """An uploaded sound checked and written re-encoded to ``dest``: its type from its name
    (``RECORDING_TYPES``), its first bytes that type's, at most ``MAX_UPLOAD_BYTES``, then
    decoded by sox (``render.transcode_upload``). ``ServiceError`` (nothing written) for
    anything else."""
    suffix = Path((filename or "").replace("\x00", "")).suffix.lower()
    if suffix not in RECORDING_TYPES:
        raise ServiceError(N_("Upload a .wav, .mp3 or .ogg file."))
    if not data:
        raise ServiceError(N_("The file is empty."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise ServiceError(N_("The file is too large (at most 2 MB)."))
    if not data.startswith(RECORDING_TYPES[suffix]):
        raise ServiceError(N_("This file is not a sound file of that type."))
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        render.transcode_upload(data, suffix, dest)
    except render.NotAudio:
        raise ServiceError(N_("This file is not a sound file of that type.")) from None
    except render.EngineUnavailable:
        raise ServiceError(N_("Sound files cannot be checked on this server (sox is "
                              "missing); nothing was saved.")) from None
    return dest


def save_broadcast_recording(folder: str | os.PathLike[str], filename: str,
                             data: bytes) -> Recorded:
    """Store a voice broadcast's uploaded recording re-encoded (``store_upload``), named by
    its content, so the same sound is one file and a name never changes its sound; kept in
    ``folder`` (``audio.prompts.broadcast_dir``), served at ``/ivr/audio/<name>``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".upload-", dir=folder) as work:
        decoded = store_upload(filename, data, Path(work) / f"sound{render.UPLOAD_SUFFIX}")
        digest = hashlib.sha256(decoded.read_bytes()).hexdigest()[:16]
        seconds = render.wav_seconds(decoded)
        name = f"{BROADCAST_PREFIX}{digest}{render.UPLOAD_SUFFIX}"
        os.replace(decoded, folder / name)
    return Recorded(name, max(1, round(seconds)))


# A recording uploaded for a broadcast that was never sent is removed after this long.
UNSENT_KEPT_S = 7 * 24 * 3600


def sweep_broadcast_recordings(folder: str | os.PathLike[str], in_use: set[str],
                               now_s: float) -> list[str]:
    """Remove the broadcast recordings no broadcast plays (``in_use``) that were uploaded
    more than ``UNSENT_KEPT_S`` before ``now_s`` (a draft left on the page); the names."""
    removed = []
    for path in sorted(Path(folder).glob(f"{BROADCAST_PREFIX}*{render.UPLOAD_SUFFIX}")):
        try:
            old = now_s - path.stat().st_mtime > UNSENT_KEPT_S
        except OSError:
            continue
        if old and BROADCAST_NAME.match(path.name) and path.name not in in_use:
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


def broadcast_sound(folder: str | os.PathLike[str], name: str | None) -> Recorded | None:
    """The stored broadcast recording ``name``; None for another name or a file not there."""
    if not name or not BROADCAST_NAME.match(name):
        return None
    try:
        seconds = render.wav_seconds(Path(folder) / name)
    except (OSError, EOFError, ZeroDivisionError, wave.Error):
        return None
    return Recorded(name, max(1, round(seconds)))


def remove_prompt_recording(session: Session, now: datetime, user: StaffUser,
                            recordings_dir: str | os.PathLike[str], key: str) -> None:
    if not PROMPT_KEY.match(key):
        raise ServiceError(N_("Unknown prompt."))
    removed = []
    for suffix in RECORDING_TYPES:
        path = Path(recordings_dir) / f"{key}{suffix}"
        if path.exists():
            path.unlink()
            removed.append(path.name)
    if not removed:
        raise ServiceError(N_("There is no recording to remove."))
    audit(session, now, user, "prompt_remove", "prompt", key, files=removed)
