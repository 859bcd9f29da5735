"""Rendering prompts: real gTTS code with the network replaced, real espeak-ng and sox."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import threading
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import gtts.tts
import pytest
import requests

from audio.catalogue import CATALOGUE
from audio.gtts_engine import GttsEngine
from audio.render import (
    BUILT,
    FAILED,
    SKIPPED,
    EngineUnavailable,
    EspeakEngine,
    SynthesisError,
    build,
    check,
    content_type,
    etag_for,
    file_name,
    resolve,
)
from ivr.menu import reachable_prompt_keys

# espeak-ng and sox are installed by `make system-deps` (make test): these tests always run,
# and fail when the packages are missing rather than skip.
requires_espeak = pytest.mark.espeak

WELCOME = CATALOGUE["welcome"]
# 20 silent MPEG-1 layer III frames (128 kbit/s, 44.1 kHz, mono): a tiny playable mp3.
TINY_MP3 = (bytes([0xFF, 0xFB, 0x90, 0xC4]) + bytes(413)) * 20


class FakeEngine:
    """An engine that writes fixed bytes, counting calls."""

    def __init__(self, name="gtts", suffix=".mp3", fail=False):
        self.name, self.suffix, self.fail = name, suffix, fail
        self.calls: list[str] = []

    def synthesize(self, text, dest):
        self.calls.append(text)
        if self.fail:
            raise SynthesisError(f"{self.name} is down")
        Path(dest).write_bytes(b"sound of " + text.encode())


def wav_info(path: Path) -> tuple[int, int, int, int]:
    with wave.open(str(path)) as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()


# --------------------------------------------------------------------------------------------
# The network behind gTTS's real code
# --------------------------------------------------------------------------------------------


@pytest.fixture
def no_proxy(monkeypatch):
    # gTTS sends with proxies=urllib.request.getproxies(): keep the test off any proxy.
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def offline_gtts(monkeypatch, no_proxy):
    """gTTS's own code runs; the session it opens cannot connect (as on this machine)."""
    attempts: list[str] = []

    class OfflineSession(requests.Session):
        def send(self, request, **kwargs):
            attempts.append(request.url)
            raise requests.ConnectionError("network unreachable (test)")

    monkeypatch.setattr(gtts.tts.requests, "Session", OfflineSession)
    return attempts


class StandIn:
    """A local HTTP server answering like Google Translate's batchexecute endpoint."""

    def __init__(self):
        self.status = 200
        self.audio = TINY_MP3
        self.requests: list[tuple[str, bytes]] = []
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                standin.requests.append((self.path, body))
                b64 = base64.b64encode(standin.audio).decode("ascii")
                reply = (
                    f')]}}\'\n\n[["wrb.fr","jQ1olc","[\\"{b64}\\"]",null,null,null,"generic"]]\n'
                ).encode()
                self.send_response(standin.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def standin(monkeypatch, no_proxy):
    """gTTS's real code, its requests sent over a real socket to a local stand-in."""
    server = StandIn()
    original_urls: list[str] = []

    class LocalSession(requests.Session):
        def send(self, request, **kwargs):
            original_urls.append(request.url)
            parts = urlsplit(request.url)
            request.url = server.url + parts.path + (f"?{parts.query}" if parts.query else "")
            return super().send(request, **kwargs)

    monkeypatch.setattr(gtts.tts.requests, "Session", LocalSession)
    server.original_urls = original_urls
    yield server
    server.close()


# --------------------------------------------------------------------------------------------
# gTTS and espeak-ng for real
# --------------------------------------------------------------------------------------------


@requires_espeak
def test_gtts_offline_falls_back_to_espeak_wav_8k_mono(tmp_path, offline_gtts):
    out = tmp_path / "out"
    report = build({"welcome": WELCOME}, out, engines=[GttsEngine(), EspeakEngine()])

    result = report["welcome"]
    assert offline_gtts, "gTTS's own code must have tried the network"
    assert offline_gtts[0].startswith("https://translate.google.com/")
    assert (result.source, result.action) == ("espeak", BUILT)
    assert "gtts" in result.errors[0] and "Failed to connect" in result.errors[0]
    assert result.path == out / file_name("welcome", WELCOME, ".wav")
    rate, channels, width, frames = wav_info(result.path)
    assert (rate, channels, width) == (8000, 1, 2)
    assert frames > 8000  # more than a second of speech
    soxi = subprocess.run(["soxi", "-r", str(result.path)], capture_output=True, text=True)
    if soxi.returncode == 0:
        assert soxi.stdout.strip() == "8000"
    assert resolve("welcome", WELCOME, out, None) == (result.path, "espeak")


@requires_espeak
def test_gtts_http_error_falls_back_to_espeak(tmp_path, standin):
    standin.status = 503
    report = build({"goodbye": CATALOGUE["goodbye"]}, tmp_path, [GttsEngine(), EspeakEngine()])
    assert len(standin.requests) == 1
    assert report["goodbye"].source == "espeak"
    assert "503" in report["goodbye"].errors[0]
    assert wav_info(report["goodbye"].path)[:2] == (8000, 1)


def test_gtts_success_against_local_standin_writes_mp3(tmp_path, standin):
    report = build(
        {"welcome": WELCOME}, tmp_path, engines=[GttsEngine(), FakeEngine("espeak", ".wav")]
    )
    result = report["welcome"]
    assert (result.source, result.action) == ("gtts", BUILT)
    assert result.path == tmp_path / file_name("welcome", WELCOME, ".mp3")
    assert result.path.read_bytes() == TINY_MP3 * len(standin.requests)
    # What gTTS sent: Vietnamese, the prompt's own words.
    assert standin.original_urls[0].startswith("https://translate.google.com/")
    rpc = json.loads(parse_qs(standin.requests[0][1].decode())["f.req"][0])
    text, lang = json.loads(rpc[0][0][1])[:2]
    assert lang == "vi" and text.startswith("Xin chào chị")
    assert resolve("welcome", WELCOME, tmp_path, None) == (result.path, "gtts")
    if shutil.which("soxi"):
        soxi = subprocess.run(["soxi", "-t", str(result.path)], capture_output=True, text=True)
        assert soxi.returncode == 0 and soxi.stdout.strip() == "mp3"


def test_gtts_engine_takes_an_injected_factory(tmp_path):
    seen = {}

    class FakeTTS:
        def __init__(self, text, lang, timeout):
            seen.update(text=text, lang=lang)

        def save(self, path):
            Path(path).write_bytes(TINY_MP3)

    GttsEngine(tts_factory=FakeTTS).synthesize("Chào chị", tmp_path / "x.mp3")
    assert seen == {"text": "Chào chị", "lang": "vi"}
    assert (tmp_path / "x.mp3").read_bytes() == TINY_MP3


def test_gtts_failure_is_a_synthesis_error_and_leaves_no_file(tmp_path, offline_gtts):
    with pytest.raises(SynthesisError, match="gTTS failed"):
        GttsEngine().synthesize("Chào chị", tmp_path / "x.mp3")
    assert list(tmp_path.iterdir()) == []


def test_espeak_missing_is_a_clear_error(tmp_path):
    engine = EspeakEngine(espeak="espeak-ng-not-installed-here")
    assert not engine.available()
    with pytest.raises(EngineUnavailable, match="apt-get install -y espeak-ng"):
        engine.synthesize("Chào chị", tmp_path / "x.wav")
    report = build({"welcome": WELCOME}, tmp_path, engines=[engine])
    assert report["welcome"].source == "missing"
    assert "not installed" in report["welcome"].errors[0]


@requires_espeak
def test_every_reachable_prompt_is_short_enough_spoken(tmp_path):
    keys = sorted(reachable_prompt_keys())
    report = build(CATALOGUE, tmp_path, engines=[EspeakEngine()], keys=keys)
    assert report.ok, report.lines()
    for key in keys:
        rate, channels, _, frames = wav_info(report[key].path)
        assert (rate, channels) == (8000, 1)
        assert 0 < frames / rate < 25, f"{key} lasts {frames / rate:.1f} s"


# --------------------------------------------------------------------------------------------
# Build bookkeeping (fake engines: fast)
# --------------------------------------------------------------------------------------------


def test_second_build_skips_unchanged(tmp_path):
    engine = FakeEngine()
    catalogue = {"welcome": WELCOME, "goodbye": CATALOGUE["goodbye"]}
    first = build(catalogue, tmp_path, engines=[engine])
    assert sorted(first.built) == ["goodbye", "welcome"]
    mtime = first["welcome"].path.stat().st_mtime_ns

    second = build(catalogue, tmp_path, engines=[engine])
    assert sorted(second.skipped) == ["goodbye", "welcome"]
    assert second["welcome"].source == "gtts"
    assert len(engine.calls) == 2
    assert second["welcome"].path.stat().st_mtime_ns == mtime


def test_changed_text_renames_and_removes_stale(tmp_path):
    engine = FakeEngine()
    old = build({"welcome": "Chào chị."}, tmp_path, engines=[engine])["welcome"].path
    new = build({"welcome": "Xin chào chị."}, tmp_path, engines=[engine])["welcome"]
    assert new.action == BUILT
    assert new.path != old and new.path.exists()
    assert not old.exists()
    assert new.removed == [old]
    assert sorted(p.name for p in tmp_path.iterdir()) == [new.path.name]


def test_other_keys_files_are_not_touched(tmp_path):
    engine = FakeEngine()
    build({"info": "Thông tin.", "info_bhyt": "Bảo hiểm."}, tmp_path, engines=[engine])
    report = build({"info": "Thông tin mới."}, tmp_path, engines=[engine])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(
        [file_name("info", "Thông tin mới.", ".mp3"), file_name("info_bhyt", "Bảo hiểm.", ".mp3")]
    )
    assert len(report["info"].removed) == 1


def test_fallback_engine_used_when_first_fails(tmp_path):
    down, espeak = FakeEngine(fail=True), FakeEngine("espeak", ".wav")
    result = build({"welcome": WELCOME}, tmp_path, engines=[down, espeak])["welcome"]
    assert (result.source, result.action) == ("espeak", BUILT)
    assert result.path.suffix == ".wav"
    # Next build: the espeak file is current, nothing is synthesized again.
    again = build({"welcome": WELCOME}, tmp_path, engines=[down, espeak])["welcome"]
    assert (again.source, again.action) == ("espeak", SKIPPED)
    assert len(down.calls) == 1 and len(espeak.calls) == 1


def test_engine_down_is_not_retried_for_every_key(tmp_path):
    down, espeak = FakeEngine(fail=True), FakeEngine("espeak", ".wav")
    catalogue = {f"k{i}": f"Câu số {i}." for i in range(6)}
    report = build(catalogue, tmp_path, engines=[down, espeak], max_engine_failures=3)
    assert len(down.calls) == 3
    assert all(r.source == "espeak" for r in report.results.values())


def test_all_engines_fail_means_say_at_call_time_and_no_stale_file(tmp_path):
    old = build({"welcome": "Chào chị."}, tmp_path, engines=[FakeEngine()])["welcome"].path
    result = build({"welcome": WELCOME}, tmp_path, engines=[FakeEngine(fail=True)])["welcome"]
    assert (result.source, result.action, result.path) == ("missing", FAILED, None)
    assert not old.exists()  # the old words must not be played for the new text
    assert resolve("welcome", WELCOME, tmp_path, None) == (None, "missing")
    assert not build({"welcome": WELCOME}, tmp_path, engines=[FakeEngine(fail=True)]).ok


def test_recording_overrides_synthesis(tmp_path):
    out, rec = tmp_path / "out", tmp_path / "rec"
    engine = FakeEngine()
    build({"welcome": WELCOME}, out, engines=[engine])
    rec.mkdir()
    recording = rec / "welcome.wav"
    recording.write_bytes(b"RIFF staff voice")

    result = build({"welcome": WELCOME}, out, engines=[engine], recordings_dir=rec)["welcome"]
    assert (result.source, result.action, result.path) == ("recorded", SKIPPED, recording)
    assert len(engine.calls) == 1
    assert resolve("welcome", WELCOME, out, rec) == (recording, "recorded")
    # Without the recording, the synthesized file is still there.
    recording.unlink()
    assert resolve("welcome", WELCOME, out, rec)[1] == "gtts"


def test_recording_only_for_its_own_key(tmp_path):
    rec = tmp_path / "rec"
    rec.mkdir()
    (rec / "welcome.mp3").write_bytes(b"ID3 staff voice")
    (rec / "welcome_old.wav").write_bytes(b"RIFF")
    (rec / "goodbye.txt").write_text("notes")
    assert resolve("welcome", WELCOME, tmp_path, rec)[1] == "recorded"
    assert resolve("goodbye", "Chào chị.", tmp_path, rec) == (None, "missing")


def test_resolve_prefers_mp3_over_wav(tmp_path):
    mp3 = tmp_path / file_name("welcome", WELCOME, ".mp3")
    wav = tmp_path / file_name("welcome", WELCOME, ".wav")
    wav.write_bytes(b"RIFF")
    assert resolve("welcome", WELCOME, tmp_path) == (wav, "espeak")
    mp3.write_bytes(TINY_MP3)
    assert resolve("welcome", WELCOME, tmp_path) == (mp3, "gtts")
    # A file for another text does not count.
    assert resolve("welcome", "Khác.", tmp_path) == (None, "missing")


def test_bad_keys_are_refused(tmp_path):
    with pytest.raises(ValueError):
        resolve("../etc/passwd", "x", tmp_path)
    with pytest.raises(ValueError):
        file_name("Welcome", "x", ".mp3")


def test_check_reports_sources_and_fails_on_missing_key(tmp_path):
    out, rec = tmp_path / "out", tmp_path / "rec"
    rec.mkdir()
    (rec / "goodbye.wav").write_bytes(b"RIFF")
    catalogue = {"welcome": WELCOME, "goodbye": "Chào chị.", "no_input": "Chị chưa bấm."}
    build({"welcome": WELCOME}, out, engines=[FakeEngine()])

    lines, ok = check(["welcome", "goodbye", "no_input"], catalogue, out, rec)
    assert ok
    by_key = {line.split()[0]: line for line in lines}
    assert (
        "gtts" in by_key["welcome"] and file_name("welcome", WELCOME, ".mp3") in by_key["welcome"]
    )
    assert "recorded" in by_key["goodbye"] and "goodbye.wav" in by_key["goodbye"]
    assert "missing" in by_key["no_input"] and "<Say>" in by_key["no_input"]

    lines, ok = check(["welcome", "not_in_catalogue"], catalogue, out, rec)
    assert not ok
    assert any("not_in_catalogue" in line and "MISSING" in line for line in lines)


def test_check_real_menu_against_real_catalogue(tmp_path):
    lines, ok = check(reachable_prompt_keys(), CATALOGUE, tmp_path)
    assert ok
    assert len(lines) == len(reachable_prompt_keys())


def test_content_types_and_etag(tmp_path):
    assert content_type("a/welcome-0123456789ab.mp3") == "audio/mpeg"
    assert content_type(Path("welcome.wav")) == "audio/wav"
    with pytest.raises(ValueError):
        content_type("welcome.txt")
    f = tmp_path / "welcome.wav"
    f.write_bytes(b"one")
    tag = etag_for(f)
    assert tag.startswith('"') and tag.endswith('"')
    assert etag_for(f) == tag
    f.write_bytes(b"two, longer")
    assert etag_for(f) != tag
