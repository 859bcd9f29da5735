"""Rendering prompts to sound files, and finding them at call time.

A synthesized file is named by its prompt key and a hash of its text,
``<key>-<sha256(text)[:12]>.mp3`` (gTTS) or ``.wav`` (espeak-ng, 8 kHz mono 16-bit for the phone
line), so a changed text gets a new file and an unchanged one is never rendered twice.
A staff recording ``<key>.mp3`` / ``<key>.wav`` in the recordings directory beats any synthesis.
No file at all: the IVR speaks the text with <Say language="vi-VN">.

Rendering is slow (network, subprocesses): run ``build()`` from a CLI command or a job, never in
a request. ``resolve()`` only looks at the disk and is cheap enough for a webhook. The gTTS
engine is in ``audio.gtts_engine``, so looking prompts up never imports ``gtts``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

SOURCE_RECORDED = "recorded"
SOURCE_GTTS = "gtts"
SOURCE_ESPEAK = "espeak"
SOURCE_MISSING = "missing"  # no file: spoken with <Say> at call time

BUILT = "built"
SKIPPED = "skipped"
FAILED = "failed"

CONTENT_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav"}
RECORDING_SUFFIXES = (".mp3", ".wav")
SAY_LANGUAGE = "vi-VN"
SAY_VOICE = "Google.vi-VN-Standard-A"

_KEY_RE = re.compile(r"^[a-z0-9_]+$")
_RENDERED_RE = re.compile(r"^(?P<key>[a-z0-9_]+)-(?P<hash>[0-9a-f]{12})(?P<suffix>\.mp3|\.wav)$")


class SynthesisError(RuntimeError):
    """An engine could not turn a text into sound."""


class EngineUnavailable(SynthesisError):
    """The engine's program is not installed."""


class Engine(Protocol):
    name: str  # the source it reports: "gtts", "espeak"
    suffix: str  # ".mp3", ".wav"

    def synthesize(self, text: str, dest: Path) -> None:
        """Write the sound of ``text`` to ``dest``; raise SynthesisError on failure."""


# --------------------------------------------------------------------------------------------
# Names and lookups
# --------------------------------------------------------------------------------------------


def _check_key(key: str) -> None:
    if not _KEY_RE.match(key):
        raise ValueError(f"bad prompt key {key!r}: lower case letters, digits, underscores")


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def file_name(key: str, text: str, suffix: str) -> str:
    """``<key>-<sha256(text)[:12]><suffix>``."""
    _check_key(key)
    return f"{key}-{text_hash(text)}{suffix}"


def find_recording(key: str, recordings_dir: str | os.PathLike[str] | None) -> Path | None:
    """The staff recording for ``key`` (``<key>.mp3`` or ``<key>.wav``); the newest if several."""
    _check_key(key)
    if recordings_dir is None:
        return None
    found = []
    for suffix in RECORDING_SUFFIXES:
        path = Path(recordings_dir) / f"{key}{suffix}"
        try:
            st = path.stat()
        except OSError:
            continue
        if st.st_size > 0:
            found.append((st.st_mtime_ns, path.name, path))
    return max(found)[2] if found else None


def _rendered_files(out_dir: Path, key: str) -> list[Path]:
    if not out_dir.is_dir():
        return []
    return [
        p
        for p in out_dir.iterdir()
        if (m := _RENDERED_RE.match(p.name)) and m.group("key") == key and p.is_file()
    ]


def _usable(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def resolve(
    key: str,
    text: str,
    out_dir: str | os.PathLike[str],
    recordings_dir: str | os.PathLike[str] | None = None,
) -> tuple[Path | None, str]:
    """The file to play for prompt ``key`` with ``text``, and where it comes from.

    A staff recording first, then the gTTS mp3, then the espeak-ng wav of this very text.
    ``(None, "missing")``: use <Say language="vi-VN" voice="Google.vi-VN-Standard-A">.
    """
    recording = find_recording(key, recordings_dir)
    if recording is not None:
        return recording, SOURCE_RECORDED
    for suffix, source in ((".mp3", SOURCE_GTTS), (".wav", SOURCE_ESPEAK)):
        path = Path(out_dir) / file_name(key, text, suffix)
        if _usable(path):
            return path, source
    return None, SOURCE_MISSING


def content_type(path: str | os.PathLike[str]) -> str:
    """``audio/mpeg`` for .mp3, ``audio/wav`` for .wav."""
    suffix = Path(path).suffix.lower()
    try:
        return CONTENT_TYPES[suffix]
    except KeyError:
        raise ValueError(f"not a prompt sound file: {path}") from None


@lru_cache(maxsize=1024)
def _etag(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            digest.update(chunk)
    return '"' + digest.hexdigest()[:32] + '"'


def etag_for(path: str | os.PathLike[str]) -> str:
    """A strong ETag (quoted) from the file's content; cached while the file is unchanged."""
    st = os.stat(path)
    return _etag(os.fspath(path), st.st_mtime_ns, st.st_size)


# --------------------------------------------------------------------------------------------
# Engines
# --------------------------------------------------------------------------------------------


def atomic_write(dest: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a hidden temporary file beside ``dest``, then move it into place;
    nothing is left behind when ``write`` fails or writes nothing."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=dest.suffix, dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        if tmp.stat().st_size == 0:
            raise SynthesisError(f"no sound written for {dest.name}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


class EspeakEngine:
    """espeak-ng's Vietnamese voice, converted by sox to 8 kHz mono 16-bit PCM wav."""

    name = SOURCE_ESPEAK
    suffix = ".wav"

    def __init__(
        self,
        voice: str = "vi",
        speed: int = 140,
        rate: int = 8000,
        espeak: str = "espeak-ng",
        sox: str = "sox",
        timeout: float = 60.0,
    ) -> None:
        self.voice = voice
        self.speed = speed
        self.rate = rate
        self.espeak = espeak
        self.sox = sox
        self.timeout = timeout

    def _program(self, name: str, package: str) -> str:
        path = shutil.which(name)
        if path is None:
            raise EngineUnavailable(
                f"{name} is not installed: apt-get install -y {package} "
                "(Vietnamese prompts fall back to <Say> until it is)"
            )
        return path

    def available(self) -> bool:
        return shutil.which(self.espeak) is not None and shutil.which(self.sox) is not None

    def synthesize(self, text: str, dest: Path) -> None:
        espeak = self._program(self.espeak, "espeak-ng")
        sox = self._program(self.sox, "sox")

        def write(tmp: Path) -> None:
            with tempfile.TemporaryDirectory(prefix="espeak-") as work:
                raw = Path(work) / "raw.wav"
                self._run(
                    [
                        espeak,
                        "-v",
                        self.voice,
                        "-s",
                        str(self.speed),
                        "-b",
                        "1",
                        "--stdin",
                        "-w",
                        str(raw),
                    ],
                    stdin=text.encode("utf-8"),
                )
                self._run(
                    [
                        sox,
                        str(raw),
                        "-r",
                        str(self.rate),
                        "-c",
                        "1",
                        "-b",
                        "16",
                        "-e",
                        "signed-integer",
                        "-t",
                        "wav",
                        str(tmp),
                    ],
                )

        atomic_write(dest, write)

    def _run(self, argv: list[str], stdin: bytes | None = None) -> None:
        # argv is a resolved program path and fixed options; the text goes in on stdin.
        try:
            subprocess.run(  # noqa: S603
                argv, input=stdin, capture_output=True, check=True, timeout=self.timeout
            )
        except subprocess.CalledProcessError as e:
            err = e.stderr.decode("utf-8", "replace").strip()
            raise SynthesisError(f"{Path(argv[0]).name} failed ({e.returncode}): {err}") from e
        except (subprocess.TimeoutExpired, OSError) as e:
            raise SynthesisError(f"{Path(argv[0]).name} failed: {e}") from e


# --------------------------------------------------------------------------------------------
# Build and check
# --------------------------------------------------------------------------------------------


@dataclass
class KeyResult:
    key: str
    source: str  # recorded / gtts / espeak / missing
    action: str  # built / skipped / failed
    path: Path | None = None
    removed: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        where = self.path.name if self.path is not None else "<Say> at call time"
        text = f"{self.key:26} {self.source:8} {self.action:7} {where}"
        if self.errors:
            text += "  (" + "; ".join(self.errors) + ")"
        return text


@dataclass
class BuildReport:
    results: dict[str, KeyResult] = field(default_factory=dict)

    def __getitem__(self, key: str) -> KeyResult:
        return self.results[key]

    def with_action(self, action: str) -> list[str]:
        return [k for k, r in self.results.items() if r.action == action]

    @property
    def built(self) -> list[str]:
        return self.with_action(BUILT)

    @property
    def skipped(self) -> list[str]:
        return self.with_action(SKIPPED)

    @property
    def missing(self) -> list[str]:
        return [k for k, r in self.results.items() if r.source == SOURCE_MISSING]

    @property
    def ok(self) -> bool:
        """Every prompt has a file (recorded or synthesized)."""
        return not self.missing

    def lines(self) -> list[str]:
        return [r.line() for r in self.results.values()]


def build(
    catalogue: Mapping[str, str],
    out_dir: str | os.PathLike[str],
    engines: Sequence[Engine],
    recordings_dir: str | os.PathLike[str] | None = None,
    *,
    keys: Iterable[str] | None = None,
    max_engine_failures: int = 3,
) -> BuildReport:
    """Render every prompt of ``catalogue`` (or only ``keys``) into ``out_dir``.

    Per key: a staff recording means nothing to synthesize; a file for the current text is left
    alone; otherwise the engines are tried in order and the first that succeeds writes the file.
    Files of the key for an older text are removed (also when synthesis fails: better <Say> the
    right words than play the wrong ones). An engine that fails ``max_engine_failures`` times
    in a row (say gTTS with no internet) is not tried again in this build.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    engines = list(engines)
    failures = {id(e): 0 for e in engines}
    report = BuildReport()
    for key in catalogue if keys is None else keys:
        text = catalogue[key]
        result = _build_one(key, text, out, engines, recordings_dir, failures, max_engine_failures)
        current = {file_name(key, text, e.suffix) for e in engines} | {
            file_name(key, text, s) for s in CONTENT_TYPES
        }
        for path in _rendered_files(out, key):
            if path.name not in current:
                path.unlink(missing_ok=True)
                result.removed.append(path)
        report.results[key] = result
    return report


def _build_one(
    key: str,
    text: str,
    out: Path,
    engines: Sequence[Engine],
    recordings_dir: str | os.PathLike[str] | None,
    failures: dict[int, int],
    max_failures: int,
) -> KeyResult:
    _check_key(key)
    recording = find_recording(key, recordings_dir)
    if recording is not None:
        return KeyResult(key, SOURCE_RECORDED, SKIPPED, recording)
    if not text or not text.strip():
        return KeyResult(key, SOURCE_MISSING, FAILED, errors=["empty text"])
    for engine in engines:
        path = out / file_name(key, text, engine.suffix)
        if _usable(path):
            return KeyResult(key, engine.name, SKIPPED, path)
    errors = []
    for engine in engines:
        if failures[id(engine)] >= max_failures:
            errors.append(f"{engine.name}: not tried after {max_failures} failures")
            continue
        path = out / file_name(key, text, engine.suffix)
        try:
            engine.synthesize(text, path)
        except SynthesisError as e:
            failures[id(engine)] += 1
            errors.append(f"{engine.name}: {e}")
            continue
        failures[id(engine)] = 0
        return KeyResult(key, engine.name, BUILT, path, errors=errors)
    return KeyResult(key, SOURCE_MISSING, FAILED, errors=errors)


def check(
    menu_keys: Iterable[str],
    catalogue: Mapping[str, str],
    out_dir: str | os.PathLike[str],
    recordings_dir: str | os.PathLike[str] | None = None,
) -> tuple[list[str], bool]:
    """One line per reachable prompt saying where its sound comes from.

    Not ok when a reachable key has no text in the catalogue (the IVR would have nothing to say).
    A prompt without a file is fine: it is spoken with <Say> at call time.
    """
    lines: list[str] = []
    ok = True
    for key in sorted(set(menu_keys)):
        text = catalogue.get(key)
        if not text:
            lines.append(f"{key:26} MISSING  no text in the catalogue")
            ok = False
            continue
        path, source = resolve(key, text, out_dir, recordings_dir)
        where = path.name if path is not None else "<Say> at call time"
        lines.append(f"{key:26} {source:8} {where}")
    return lines, ok


# --------------------------------------------------------------------------------------------
# Staff uploads: decoded and re-encoded before the line plays them
# --------------------------------------------------------------------------------------------

UPLOAD_TYPES = {".mp3": "mp3", ".wav": "wav", ".ogg": "ogg"}
# What the line stores and serves for a staff recording: telephone quality, like espeak's.
UPLOAD_SUFFIX = ".wav"
MAX_UPLOAD_SECONDS = 600
MIN_UPLOAD_SECONDS = 0.05


class NotAudio(ValueError):
    """An upload sox cannot decode as the sound it says it is (or one too long or empty)."""


def transcode_upload(data: bytes, suffix: str, dest: Path, *, sox: str = "sox",
                     rate: int = 8000, timeout: float = 60.0) -> Path:
    """Decode ``data`` as ``suffix`` says (mp3, wav or ogg, never guessed from its bytes) with
    sox and write it re-encoded as 8 kHz mono 16-bit PCM wav to ``dest`` (atomically).

    The uploaded bytes are never kept: what is served is what sox wrote, so a file that
    starts ``ID3`` or ``RIFF`` and is a web page inside is refused (``NotAudio``), not
    stored. ``EngineUnavailable`` when sox is not installed."""
    kind = UPLOAD_TYPES.get(suffix.lower())
    if kind is None:
        raise NotAudio(f"unsupported type {suffix!r}")
    program = shutil.which(sox)
    if program is None:
        raise EngineUnavailable("sox is not installed: apt-get install -y sox libsox-fmt-mp3")
    with tempfile.TemporaryDirectory(prefix="upload-") as work:
        original = Path(work) / f"original{suffix.lower()}"
        original.write_bytes(data)
        decoded = Path(work) / "decoded.wav"
        try:
            subprocess.run(  # noqa: S603 - a resolved program path and fixed options
                [program, "-V1", "-t", kind, str(original), "-r", str(rate), "-c", "1",
                 "-b", "16", "-e", "signed-integer", "-t", "wav", str(decoded)],
                capture_output=True, check=True, timeout=timeout)
        except subprocess.CalledProcessError as e:
            raise NotAudio(e.stderr.decode("utf-8", "replace").strip()[:300]) from e
        except subprocess.TimeoutExpired as e:
            raise NotAudio("decoding took too long") from e
        try:
            seconds = wav_seconds(decoded)
        except (wave.Error, EOFError, OSError, ZeroDivisionError) as e:
            raise NotAudio(f"sox wrote no sound: {e}") from e
        if seconds <= MIN_UPLOAD_SECONDS:
            raise NotAudio("no sound in the file")
        if seconds > MAX_UPLOAD_SECONDS:
            raise NotAudio(f"longer than {MAX_UPLOAD_SECONDS} s")
        atomic_write(dest, lambda tmp: shutil.copyfile(decoded, tmp))
    return dest


def wav_seconds(path: str | os.PathLike[str]) -> float:
    """How long the wav at ``path`` plays (``transcode_upload``'s output); OSError or
    ``wave.Error`` for a file that is not one."""
    with wave.open(os.fspath(path), "rb") as sound:
        return sound.getnframes() / sound.getframerate()
