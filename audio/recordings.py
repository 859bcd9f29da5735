"""Staff recordings of the voice prompts: they beat synthesis where present.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from audio import render  # sox, the same tool that renders the synthetic prompts
from hotline.models import (
    StaffUser,
)
from hotline.services.audit import audit
from hotline.services.errors import N_, ServiceError

PROMPT_KEY = re.compile(r"^[a-z0-9_]{1,60}$")
RECORDING_TYPES = {".mp3": (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"), ".wav": (b"RIFF",)}


def save_prompt_recording(session: Session, now: datetime, user: StaffUser,
                          recordings_dir: str | os.PathLike[str], key: str, filename: str,
                          data: bytes) -> Path:
    """Store an uploaded human recording as ``<recordings_dir>/<key>.wav``: decoded by sox
    as the type its name says and re-encoded (the upload itself is never kept nor served);
    the key's other file goes, so the new one is the one played."""
    if not PROMPT_KEY.match(key):
        raise ServiceError(N_("Unknown prompt."))
    suffix = Path(filename or "").suffix.lower()
    if suffix not in RECORDING_TYPES:
        raise ServiceError(N_("Upload an .mp3 or .wav file."))
    if not data or not data.startswith(RECORDING_TYPES[suffix]):
        raise ServiceError(N_("This file is not a sound file of that type."))
    folder = Path(recordings_dir)
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / f"{key}{render.UPLOAD_SUFFIX}"
    try:
        render.transcode_upload(data, suffix, dest)
    except render.NotAudio:
        raise ServiceError(N_("This file is not a sound file of that type.")) from None
    except render.EngineUnavailable:
        raise ServiceError(N_("Sound files cannot be checked on this server (sox is "
                              "missing); nothing was saved.")) from None
    for other in RECORDING_TYPES:
        if other != render.UPLOAD_SUFFIX:
            (folder / f"{key}{other}").unlink(missing_ok=True)
    audit(session, now, user, "prompt_upload", "prompt", key, file=dest.name, bytes=len(data))
    return dest


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
