"""Prompt files at call time: <Play> when a file exists, <Say> when not; served with the right
type, ETag and caching; ``flask audio build`` and ``flask audio check``."""

from __future__ import annotations

import io
import os
import wave
from pathlib import Path

import pytest

import cli
from audio.render import etag_for, file_name
from ivr.menu import reachable_prompt_keys
from tests.conftest import AUTH_TOKEN, PUBLIC_URL
from tests.ivr.ivr_caller import Caller

# espeak-ng and sox come with `make system-deps`: never skipped for a missing package.
requires_espeak = pytest.mark.espeak
# 20 silent MPEG-1 layer III frames: a tiny playable mp3.
TINY_MP3 = (bytes([0xFF, 0xFB, 0x90, 0xC4]) + bytes(413)) * 20


@pytest.fixture
def settings(settings):
    return settings.replace(twilio_auth_token=AUTH_TOKEN)


@pytest.fixture
def audio_dir(settings) -> Path:
    path = Path(settings.audio_dir)
    (path / "recorded").mkdir(parents=True, exist_ok=True)
    return path


def fetch(client, url: str, method: str = "GET", **headers):
    """A finished response: body read, file closed."""
    with client.open(url, method=method, headers=headers) as resp:
        resp.body = resp.get_data()
    return resp


def plays(caller: Caller) -> list[str]:
    return [el.text for el in caller.root.iter("Play")]


@requires_espeak
def test_built_prompt_is_played_and_served_as_8khz_wav(client, runner, audio_dir):
    result = runner.invoke(args=["audio", "build", "--engine", "espeak", "--key", "welcome"])
    assert result.exit_code == 0, result.output
    assert "1 built" in result.output
    [wav] = audio_dir.glob("welcome-*.wav")

    caller = Caller(client).call()
    assert plays(caller) == [f"{PUBLIC_URL}/ivr/audio/{wav.name}"]
    assert caller.root[0].tag == "Play"  # welcome is a file; the rest is <Say>
    assert caller.heard == ["welcome", "consent_ask"]

    resp = fetch(client, f"/ivr/audio/{wav.name}")
    assert resp.status_code == 200 and resp.mimetype == "audio/wav"
    assert resp.headers["ETag"] == etag_for(wav)
    assert resp.cache_control.public and resp.cache_control.max_age == 365 * 24 * 3600
    assert resp.cache_control.immutable
    with wave.open(io.BytesIO(resp.body)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert w.getnframes() > 8000  # more than a second of speech

    again = runner.invoke(args=["audio", "build", "--engine", "espeak", "--key", "welcome"])
    assert "1 unchanged" in again.output


def write_rendered(audio_dir: Path, key: str, text: str, data: bytes = TINY_MP3) -> Path:
    path = audio_dir / file_name(key, text, ".mp3")
    path.write_bytes(data)
    return path


def test_etag_gives_304_and_a_changed_file_a_new_etag(client, audio_dir):
    text = cli.current_catalogue()["main_menu"]
    path = write_rendered(audio_dir, "main_menu", text)
    url = f"/ivr/audio/{path.name}"
    first = fetch(client, url)
    assert first.status_code == 200 and first.mimetype == "audio/mpeg"
    assert first.body == TINY_MP3
    etag = first.headers["ETag"]
    cached = fetch(client, url, **{"If-None-Match": etag})
    assert cached.status_code == 304 and cached.body == b""
    assert fetch(client, url, **{"If-None-Match": '"other"'}).status_code == 200
    head = fetch(client, url, "HEAD")
    assert head.status_code == 200 and head.body == b"" and head.headers["ETag"] == etag

    path.write_bytes(TINY_MP3 + TINY_MP3[:418])
    os.utime(path, ns=(1, 1))
    changed = fetch(client, url, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_staff_recording_wins_and_is_cached_briefly(client, audio_dir):
    text = cli.current_catalogue()["main_menu"]
    write_rendered(audio_dir, "main_menu", text)
    (audio_dir / "recorded" / "main_menu.mp3").write_bytes(TINY_MP3)
    caller = Caller(client).call().agree()
    assert plays(caller) == [f"{PUBLIC_URL}/ivr/audio/main_menu.mp3"]
    resp = fetch(client, "/ivr/audio/main_menu.mp3")
    assert resp.status_code == 200 and resp.mimetype == "audio/mpeg"
    assert resp.cache_control.max_age == 300 and not resp.cache_control.immutable


def test_a_file_for_an_older_text_is_not_played(client, audio_dir):
    write_rendered(audio_dir, "main_menu", "an older text")
    caller = Caller(client).call().agree()
    assert plays(caller) == [] and caller.heard == ["main_menu"]


@pytest.mark.parametrize("name", [
    "nothing-0123456789ab.mp3", "main_menu.ogg", "..%2Fhotline.db", "Main_menu.mp3",
    "main_menu-0123456789ab.txt", "recorded",
])
def test_unknown_or_strange_names_are_404(client, audio_dir, name):
    assert fetch(client, f"/ivr/audio/{name}").status_code == 404


def test_a_rendered_name_is_only_looked_up_among_rendered_files(client, audio_dir):
    (audio_dir / "recorded" / "welcome-0123456789ab.mp3").write_bytes(TINY_MP3)
    assert fetch(client, "/ivr/audio/welcome-0123456789ab.mp3").status_code == 404


def test_audio_check_lists_every_reachable_prompt_and_its_source(runner, audio_dir):
    text = cli.current_catalogue()["goodbye"]
    write_rendered(audio_dir, "goodbye", text)
    (audio_dir / "recorded" / "welcome.wav").write_bytes(b"RIFF")
    result = runner.invoke(args=["audio", "check"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split()[1] for line in result.output.splitlines()[:-1]}
    assert set(lines) == reachable_prompt_keys()
    assert lines["goodbye"] == "gtts" and lines["welcome"] == "recorded"
    assert lines["main_menu"] == "missing"  # spoken with <Say> at call time
    assert "<Say> at call time" in result.output


def test_audio_check_fails_when_a_prompt_is_missing_from_the_catalogue(runner, monkeypatch):
    catalogue = {k: v for k, v in cli.current_catalogue().items() if k != "case_created"}
    monkeypatch.setattr(cli, "current_catalogue", lambda: catalogue)
    result = runner.invoke(args=["audio", "check"])
    assert result.exit_code != 0
    assert "case_created" in result.output and "MISSING" in result.output


def test_audio_build_refuses_unknown_keys(runner):
    result = runner.invoke(args=["audio", "build", "--key", "no_such_prompt"])
    assert result.exit_code == 2 and "no_such_prompt" in result.output
