"""Recordings behind the console's login: a local file streamed, or the provider's media
fetched and passed through. The media link itself is never shown to anyone."""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path
from urllib.parse import urlsplit

import requests
from flask import Response, abort, send_file, stream_with_context

from hotline.config import Settings
from hotline.models import Recording

# Recordings the phone simulator makes live here under the audio folder.
SIMULATOR_DIR = "simulator"
SIMULATOR_PATH = "/console/simulator/recordings/"
SIM_SID = re.compile(r"^RE[0-9a-f]{32}$")
SIM_SUFFIXES = (".wav", ".webm", ".ogg", ".mp3", ".m4a")
FETCH_TIMEOUT = 15


def simulator_dir(settings: Settings) -> Path:
    return Path(settings.audio_dir) / SIMULATOR_DIR


def simulator_file(settings: Settings, sid: str) -> Path | None:
    """The simulator's recording ``sid``, whatever format the browser made."""
    if not SIM_SID.match(sid):
        return None
    for suffix in SIM_SUFFIXES:
        path = simulator_dir(settings) / f"{sid}{suffix}"
        if path.is_file():
            return path
    return None


def send_private(path: Path) -> Response:
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".webm":
        mimetype = "audio/webm"
    response = send_file(path, mimetype=mimetype, conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def stream_recording(recording: Recording, settings: Settings) -> Response:
    """The sound of ``recording``: its local file, the simulator's file, or the provider's."""
    if recording.local_path:
        path = Path(recording.local_path)
        if not path.is_absolute():
            path = Path(settings.audio_dir) / path
        if path.is_file():
            return send_private(path)
    url = recording.media_url or ""
    parts = urlsplit(url)
    if parts.path.startswith(SIMULATOR_PATH):
        path = simulator_file(settings, parts.path[len(SIMULATOR_PATH):])
        if path is None:
            abort(404)
        return send_private(path)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        abort(404)
    return _proxy(url, settings)


def _proxy(url: str, settings: Settings) -> Response:
    """Fetch the provider's media (Twilio wants the account's credentials) and pass it on."""
    auth = None
    host = urlsplit(url).hostname or ""
    api_host = urlsplit(settings.twilio_api_base_url).hostname or ""
    if settings.twilio_account_sid and (host.endswith("twilio.com") or host == api_host):
        auth = (settings.twilio_account_sid, settings.twilio_auth_token)
    try:
        upstream = requests.get(url, auth=auth, stream=True, timeout=FETCH_TIMEOUT)
    except requests.RequestException:
        abort(502)
    if upstream.status_code != 200:
        upstream.close()
        abort(404 if upstream.status_code == 404 else 502)
    mimetype = upstream.headers.get("Content-Type", "audio/mpeg").split(";")[0]

    def body():
        try:
            yield from upstream.iter_content(64 * 1024)
        finally:
            upstream.close()

    response = Response(stream_with_context(body()), mimetype=mimetype)
    response.headers["Cache-Control"] = "private, no-store"
    return response
