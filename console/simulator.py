"""The phone simulator: text the line and call the voice menu from a browser.

Texts go in through ``hotline.services.inbound.receive_text`` (the one way in for every
SMS) as the ``simulator`` gateway and are acted on at once (``handle_pending``, the
scheduler job's own code, rather than waiting for its next run); the line's answers are
outbox rows like any other, sent by the drain (the simulator gateway only marks them
delivered) and read back from the messages table.

Calls drive the IVR's own webhooks exactly as Twilio would: each step is a form POST to an
``/ivr/...`` URL (signed with ``X-Twilio-Signature`` when an auth token is set), dispatched
inside the app, and the TwiML that comes back is parsed into a list of verbs for the page's
script to play: <Say>, <Play>, <Pause>, <Gather>, <Record>, <Redirect>, <Dial>, <Hangup>,
<Reject>. The page sends keypresses to the <Gather> action, a recording (from the microphone,
or a short tone) to the <Record> action and its status callback, and the silence path to the
<Redirect>, as Twilio does.

Ringing once ("nháy máy") posts to ``/ivr/missed`` as Twilio does for the missed-call number:
the line rejects the call and queues a callback. The scheduler places it through the voice
gateway; with the simulator gateway nothing leaves the machine, so the page polls for
callbacks being placed to its number and rings. Answering drives ``/ivr/incoming?callback=``
with the CallSid the gateway returned (an outbound call, as Twilio posts it), then the menu as
usual; declining posts the ``no-answer`` status, so the retry ladder applies.
"""

from __future__ import annotations

import math
import struct
import uuid
import wave
import xml.etree.ElementTree as ET  # noqa: S405 - parses the app's own TwiML
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from flask import Flask
from twilio.request_validator import RequestValidator

from console import media, prompts
from hotline import clock
from hotline.config import Settings
from hotline.models import CallStatus
from hotline.phones import normalize
from hotline.runtime import Runtime
from hotline.services import inbound
from hotline.services import outbox as outbox_service

ACCOUNT_SID = "AC" + "0" * 32
IVR_PREFIX = "/ivr/"
INCOMING_PATH = "/ivr/incoming"
STATUS_PATH = "/ivr/status"
MISSED_PATH = "/ivr/missed"
# Twilio's defaults for attributes a verb leaves out.
GATHER_TIMEOUT = 5
GATHER_FINISH = "#"
RECORD_FINISH = "1234567890*#"
RECORD_MAX = 3600
TONE_SECONDS = 2
AUDIO_SUFFIXES = {"audio/webm": ".webm", "audio/ogg": ".ogg", "audio/wav": ".wav",
                  "audio/x-wav": ".wav", "audio/mpeg": ".mp3", "audio/mp4": ".m4a"}


class SimulatorError(Exception):
    """A request the simulator will not pass on (an URL outside the voice menu ...)."""


def enabled(settings: Settings) -> bool:
    """Only with the simulator SMS gateway: a simulated text must never reach a real phone."""
    return settings.sms_gateway == "simulator"


def calls_back(settings: Settings) -> bool:
    """Ring once and be called back: only with the simulator voice gateway too, since the
    callback a simulated ring queues must never dial a real phone."""
    return enabled(settings) and settings.voice_gateway == "simulator"


# --------------------------------------------------------------------------------------------
# Texts
# --------------------------------------------------------------------------------------------


def text_line(rt: Runtime, phone: str, body: str) -> str:
    """Send ``body`` from ``phone`` to the line, then deliver what the line queued at once.

    Returns the sender's E.164 number. Raises ``PhoneError`` for a number that is not one.
    """
    sender = normalize(phone)
    inbound.receive_text(rt, "simulator", f"SM-sim-{uuid.uuid4().hex}", sender, body)
    # Act on it now rather than at the scheduler's next run, so the page answers at once.
    inbound.handle_pending(rt, clock.utcnow())
    # The answers are due from the moment the handler queued them: drain at a later clock.
    deliver(rt, clock.utcnow())
    return sender


def deliver(rt: Runtime, now: datetime, limit: int = 50) -> outbox_service.DrainReport | None:
    """Run the outbox drain through the simulator gateway (nothing leaves the machine)."""
    if not enabled(rt.settings) or rt.sms_gateway.name != "simulator":
        return None
    return outbox_service.drain(rt.sessions, now, rt.sms_gateway, rt.settings, limit=limit)


# --------------------------------------------------------------------------------------------
# Calls: Twilio's side of the conversation
# --------------------------------------------------------------------------------------------


def new_call_sid() -> str:
    return "CA" + uuid.uuid4().hex


def new_recording_sid() -> str:
    return "RE" + uuid.uuid4().hex


def call_form(settings: Settings, call_sid: str, caller: str, status: str = CallStatus.IN_PROGRESS,
              *, outbound: bool = False, **extra: str) -> dict[str, str]:
    """The fields Twilio posts with every voice webhook of a call: an inbound one from
    ``caller``, or (``outbound``) one the line placed to ``caller``, such as a callback."""
    line = settings.hotline_number
    source, dest = (line, caller) if outbound else (caller, line)
    form = {
        "AccountSid": settings.twilio_account_sid or ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": status,
        "Direction": "outbound-api" if outbound else "inbound",
        "From": source,
        "Caller": source,
        "FromCountry": "VN",
        "To": dest,
        "Called": dest,
        "ToCountry": "VN",
    }
    form.update({k: str(v) for k, v in extra.items() if v is not None})
    return form


def ivr_path(url: str, settings: Settings, base: str = INCOMING_PATH) -> str:
    """The path and query of ``url`` (absolute on the public URL, or relative to ``base``) if it
    is a voice-menu URL; SimulatorError otherwise. The simulator posts nowhere else."""
    public = settings.public_url.rstrip("/")
    full = urljoin(public + base, url.strip())
    if not full.startswith(public + "/"):
        raise SimulatorError("not a URL of this line")
    parts = urlsplit(full)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if not parts.path.startswith(IVR_PREFIX) or ".." in parts.path:
        raise SimulatorError("not a voice-menu URL")
    return path


def signature(settings: Settings, path: str, form: dict[str, str]) -> str:
    """``X-Twilio-Signature`` for a POST of ``form`` to ``public_url + path``."""
    url = settings.public_url.rstrip("/") + path
    return RequestValidator(settings.twilio_auth_token).compute_signature(url, form)


@dataclass(frozen=True)
class Answer:
    status: int
    twiml: str


def post(app: Flask, settings: Settings, path: str, form: dict[str, str]) -> Answer:
    """POST ``form`` to the voice webhook at ``path`` inside the app, as Twilio would."""
    headers = {}
    if settings.signatures_required:
        headers["X-Twilio-Signature"] = signature(settings, path, form)
    client = app.test_client(use_cookies=False)
    response = client.post(path, data=form, headers=headers)
    body = response.get_data(as_text=True)
    response.close()
    return Answer(response.status_code, body)


# --------------------------------------------------------------------------------------------
# TwiML to verbs for the page
# --------------------------------------------------------------------------------------------


def _local(url: str, settings: Settings, base: str) -> str | None:
    """A URL the browser can fetch from this server, or None for a foreign one."""
    public = settings.public_url.rstrip("/")
    full = urljoin(public + base, (url or "").strip())
    if not full.startswith(public + "/"):
        return None
    parts = urlsplit(full)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _int(value: str | None, default: int | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _prompt(key: str | None, text: str) -> dict:
    return {"key": key, "text": text}


def _verb(el: ET.Element, settings: Settings, base: str, texts: dict[str, str]) -> dict:
    tag = el.tag
    text = (el.text or "").strip()
    if tag == "Say":
        key = prompts.key_of_text(text, texts)
        return {"verb": "say", **_prompt(key, text)}
    if tag == "Play":
        url = _local(text, settings, base)
        key = prompts.key_of_file(Path(urlsplit(text).path).name)
        return {"verb": "play", "url": url, **_prompt(key, texts.get(key or "", ""))}
    if tag == "Pause":
        return {"verb": "pause", "length": _int(el.get("length"), 1)}
    if tag == "Gather":
        return {
            "verb": "gather",
            "action": _local(el.get("action") or base, settings, base),
            "numDigits": _int(el.get("numDigits"), None),
            "finishOnKey": el.get("finishOnKey", GATHER_FINISH),
            "timeout": _int(el.get("timeout"), GATHER_TIMEOUT),
            "children": [_verb(child, settings, base, texts) for child in el],
        }
    if tag == "Record":
        callback = el.get("recordingStatusCallback")
        return {
            "verb": "record",
            "action": _local(el.get("action") or base, settings, base),
            "maxLength": _int(el.get("maxLength"), RECORD_MAX),
            "finishOnKey": el.get("finishOnKey", RECORD_FINISH),
            "playBeep": el.get("playBeep", "true") != "false",
            "statusCallback": _local(callback, settings, base) if callback else None,
        }
    if tag == "Redirect":
        return {"verb": "redirect", "url": _local(text, settings, base)}
    if tag == "Dial":
        numbers = [(n.text or "").strip() for n in el if n.tag == "Number"]
        if text:
            numbers.append(text)
        return {"verb": "dial", "numbers": numbers,
                "action": _local(el.get("action"), settings, base) if el.get("action") else None,
                "timeout": _int(el.get("timeout"), 30)}
    if tag in ("Hangup", "Reject"):
        return {"verb": tag.lower(), "reason": el.get("reason")}
    return {"verb": tag.lower(), "text": text}


def parse_twiml(twiml: str, settings: Settings, base: str, texts: dict[str, str]) -> list[dict]:
    """The verbs of a TwiML <Response>, in order, with URLs made local and each prompt's key
    and text (so the page can show what a <Play> says)."""
    root = ET.fromstring(twiml)  # noqa: S314 - our own IVR's answer, not outside input
    if root.tag != "Response":
        raise SimulatorError("not TwiML")
    return [_verb(el, settings, base, texts) for el in root]


# --------------------------------------------------------------------------------------------
# Recordings
# --------------------------------------------------------------------------------------------


def tone(path: Path, seconds: int = TONE_SECONDS, rate: int = 8000) -> None:
    """A quiet 440 Hz tone standing in for a caller's voice when no microphone is used."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = b"".join(
        struct.pack("<h", int(6000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(seconds * rate)
    )
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


def save_recording(settings: Settings, data: bytes | None, mimetype: str | None,
                   duration: int | None) -> tuple[str, str, int]:
    """Keep a simulated recording; returns (RecordingSid, RecordingUrl, seconds)."""
    sid = new_recording_sid()
    folder = media.simulator_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = AUDIO_SUFFIXES.get((mimetype or "").split(";")[0].strip())
    if data and suffix:
        (folder / f"{sid}{suffix}").write_bytes(data)
        seconds = max(1, duration or 1)
    else:
        tone(folder / f"{sid}.wav")
        seconds = TONE_SECONDS
    url = settings.public_url.rstrip("/") + media.SIMULATOR_PATH + sid
    return sid, url, seconds
