"""The gTTS engine (Google Translate's voice) of ``audio.render.build``.

A module of its own because ``gtts`` is imported by nothing else: ``flask audio build`` loads
it (``cli.engines``), and the processes that only look prompts up (the web workers, the
scheduler) do not.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gtts
import requests

from audio.render import SOURCE_GTTS, SynthesisError, atomic_write


class GttsEngine:
    """Google Translate's voice through gTTS (needs the internet). ``tts_factory`` is called as
    ``tts_factory(text, lang=..., timeout=...)`` and must return an object with ``save(path)``,
    as ``gtts.gTTS`` does."""

    name = SOURCE_GTTS
    suffix = ".mp3"

    def __init__(
        self,
        tts_factory: Callable[..., Any] = gtts.gTTS,
        lang: str = "vi",
        timeout: float = 15.0,
    ) -> None:
        self.tts_factory = tts_factory
        self.lang = lang
        self.timeout = timeout

    def synthesize(self, text: str, dest: Path) -> None:
        def write(tmp: Path) -> None:
            tts = self.tts_factory(text, lang=self.lang, timeout=self.timeout)
            tts.save(str(tmp))

        try:
            atomic_write(dest, write)
        except SynthesisError:
            raise
        except (gtts.tts.gTTSError, requests.RequestException, OSError, ValueError) as e:
            raise SynthesisError(f"gTTS failed: {e}") from e
