"""Recordings behind the console's login: a local file streamed, or the provider's media
fetched and passed through. The media link itself is never shown to anyone."""

from __future__ import annotations

import io
import mimetypes
from pathlib import Path
from urllib.parse import urlsplit

import requests
from flask import Response, abort, send_file, stream_with_context

from hotline.config import Settings
from hotline.models import Recording
from hotline.services.retention import SIMULATOR_DIR, SIMULATOR_PATH, SIMULATOR_SID

SIM_SUFFIXES = (".wav", ".webm", ".ogg", ".mp3", ".m4a")
FETCH_TIMEOUT = 15


def simulator_dir(settings: Settings) -> Path:
    return Path(settings.audio_dir) / SIMULATOR_DIR


def simulator_file(settings: Settings, sid: str) -> Path | None:
    """The simulator's recording ``sid``, whatever format the browser made."""
    if not SIMULATOR_SID.match(sid):
        return None
    for suffix in SIM_SUFFIXES:
        path = simulator_dir(settings) / f"{sid}{suffix}"
        if path.is_file():
            return path
    return None


def send_sound(path: Path, mimetype: str) -> Response:
    """A sound file for a listener in the console, ranges answered. Read whole (a few MB
    at most) so the file is closed at once: a browser skipping through aborts its range
    requests, and a server that drops such a connection before closing the response would
    leave the file open."""
    return send_file(io.BytesIO(path.read_bytes()), mimetype=mimetype, conditional=True,
                     max_age=0, last_modified=path.stat().st_mtime)


def send_private(path: Path) -> Response:
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".webm":
        mimetype = "audio/webm"
    response = send_sound(path, mimetype)
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
    if not from_twilio_api(url, settings):
        abort(404)
    return _proxy(url, settings)


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    except ValueError:  # a port that is not a number
        return None


def from_twilio_api(url: str, settings: Settings) -> bool:
    """Whether ``url`` is on the configured Twilio API origin exactly (scheme, host, port):
    the only place the account's credentials may be sent. ``eviltwilio.com``,
    ``api.twilio.com.evil.org``, ``user@`` tricks and plain http all fail; the default
    origin is https, and only tests point it at a local fake."""
    origin, api = _origin(url), _origin(settings.twilio_api_base_url)
    if origin is None or api is None or not origin[1] or "@" in urlsplit(url).netloc:
        return False
    default_port = {"https": 443, "http": 80}
    return (origin[0], origin[1], origin[2] or default_port.get(origin[0])) == (
        api[0], api[1], api[2] or default_port.get(api[0]))


def _proxy(url: str, settings: Settings) -> Response:
    """Fetch the recording from Twilio's API with the account's credentials (the caller
    checked the origin) and pass it on. Twilio may redirect media to its storage;
    requests drops the Authorization header on any redirect off that origin."""
    auth = None
    if settings.twilio_account_sid:
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
