"""Screens to TwiML, with twilio's ``VoiceResponse``.

Each prompt is a <Play> of its sound file (a staff recording, else the gTTS mp3, else the
espeak-ng wav), served from ``/ivr/audio/<file>``, or, with no file, a <Say> in Vietnamese so the
line never goes silent. Every URL is absolute, built from ``settings.public_url``: Twilio signs
the URL it calls and the signature check rebuilds it from the same base.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import date
from urllib.parse import urlencode

from twilio.twiml.voice_response import VoiceResponse

from audio.prompts import broadcast_dir, catalogue_on, sound_dirs
from audio.recordings import broadcast_sound
from audio.render import SAY_LANGUAGE, SAY_VOICE, resolve
from ivr.flow import Dial, Gather, Hangup, Record, Said, Screen
from ivr.menu import Menu, digit_prompt_keys

log = logging.getLogger(__name__)

MENU_PATH = "/ivr/menu"
RECORDED_PATH = "/ivr/recorded"
RECORDING_STATUS_PATH = "/ivr/recording"
DIALED_PATH = "/ivr/dialed"
ALERT_PATH = "/ivr/alert"
ALERT_RETRIES = 2
AUDIO_PATH = "/ivr/audio/"


class Renderer:
    """Renders screens for one request: the settings' URLs and sound files, the day's texts."""

    def __init__(self, settings, catalogue: Mapping[str, str], menu: Menu,
                 sounds_version: tuple[int, int] | None = None) -> None:
        self.base = settings.public_url.rstrip("/")
        self.out_dir, self.recordings_dir = sound_dirs(settings)
        self.broadcasts_dir = broadcast_dir(settings)
        self.catalogue = catalogue
        self.menu = menu
        # The two sound folders' mtimes (``_sound_dirs_version``) when the caller read them:
        # each prompt's file is then looked up once per version, not once per screen.
        self.sounds_version = sounds_version

    def _sound(self, key: str, text: str):
        """``resolve``'s file for the prompt (None: <Say>), remembered per sounds version."""
        if self.sounds_version is None:
            return resolve(key, text, self.out_dir, self.recordings_dir)[0]
        memo = (key, text, self.out_dir, self.recordings_dir, self.sounds_version)
        if memo not in _RESOLVED:
            if len(_RESOLVED) >= RENDERED_CACHE_SIZE:
                _RESOLVED.clear()
            _RESOLVED[memo] = resolve(key, text, self.out_dir, self.recordings_dir)[0]
        return _RESOLVED[memo]

    def url(self, path: str, **params) -> str:
        """``public_url + path`` with ``params`` (None values left out) as the query."""
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{self.base}{path}?{query}" if query else f"{self.base}{path}"

    def prompts(self, verb, keys) -> None:
        """Append a <Play> or <Say> for each prompt key (or ``Said`` text) to ``verb``."""
        for key in keys:
            if isinstance(key, Said):
                if key.text:
                    verb.say(key.text, language=SAY_LANGUAGE, voice=SAY_VOICE)
                continue
            text = self.catalogue.get(key)
            if not text:
                log.error("prompt %r has no text in the catalogue; skipped", key)
                continue
            path = self._sound(key, text)
            if path is not None:
                verb.play(self.url(AUDIO_PATH + path.name))
            else:
                verb.say(text, language=SAY_LANGUAGE, voice=SAY_VOICE)

    def render(self, screen: Screen) -> str:
        response = VoiceResponse()
        self.prompts(response, screen.prompts)
        nxt = screen.next
        if isinstance(nxt, Gather):
            self._gather(response, nxt, screen.step)
        elif isinstance(nxt, Record):
            self._record(response, nxt, screen.step)
        elif isinstance(nxt, Dial):
            dial = response.dial(
                timeout=nxt.timeout, method="POST",
                action=self.url(DIALED_PATH, **nxt.ref.params(), n=screen.step),
            )
            for number in nxt.numbers:
                dial.number(number)
        elif isinstance(nxt, Hangup):
            response.hangup()
        return response.to_xml()

    def _gather(self, response: VoiceResponse, gather: Gather, step: int) -> None:
        node = self.menu.node(gather.node)
        action = self.url(MENU_PATH, node=node.key, n=step, r=gather.retries,
                          resume=gather.resume)
        verb = response.gather(
            num_digits=node.gather_digits,
            # No finish key on a menu: '#' is then a wrong key, not silence.
            finish_on_key=node.finish_on_key or "",
            timeout=node.timeout,
            action=action,
            method="POST",
        )
        self.prompts(verb, node.prompts)
        # Silence: Twilio skips the action and comes here, to the same step.
        response.redirect(action, method="POST")

    def _record(self, response: VoiceResponse, record: Record, step: int) -> None:
        action = self.url(RECORDED_PATH, **record.ref.params(), n=step, r=record.retries)
        response.record(
            action=action,
            method="POST",
            max_length=record.max_length,
            finish_on_key=record.finish_on_key,
            play_beep=record.play_beep,
            recording_status_callback=self.url(RECORDING_STATUS_PATH, **record.ref.params()),
            recording_status_callback_event="completed absent",
            recording_status_callback_method="POST",
        )
        # Nothing recorded: Twilio skips the action and comes here, to the same step.
        response.redirect(action, method="POST")


def render_screen(settings, day: date, screen: Screen, menu: Menu) -> str:
    """``Renderer(...).render(screen)`` with the texts of ``day``, remembered per screen.

    A screen's TwiML changes only with the day's texts and with the sound files there are.
    Every writer of those files (``audio build``, a staff recording in the console) renames
    them into place, which changes their directory's mtime, so the two directories' mtimes
    are part of the key: looking costs two ``stat`` calls instead of several per prompt, and
    no XML is built for a screen seen before.
    """
    # The menu by identity: it is module data (unhashable mappings), never rebuilt.
    version = _sound_dirs_version(settings)
    key = (settings, day, version, screen, id(menu))
    xml = _RENDERED.get(key)
    if xml is None:
        if len(_RENDERED) >= RENDERED_CACHE_SIZE:
            _RENDERED.clear()
        # A screen with data in it (key 9's case number) is new each time; its prompts'
        # files are not: looked up once per version of the folders (``Renderer._sound``).
        xml = _RENDERED[key] = Renderer(settings, catalogue_on(day), menu,
                                        sounds_version=version).render(screen)
    return xml


RENDERED_CACHE_SIZE = 4096
_RENDERED: dict[tuple, str] = {}
_RESOLVED: dict[tuple, object] = {}


def _sound_dirs_version(settings) -> tuple[int, int]:
    out, recordings = sound_dirs(settings)
    version = []
    for folder in (out, recordings):
        try:
            version.append(os.stat(folder).st_mtime_ns)
        except OSError:
            version.append(-1)
    return tuple(version)


def reject() -> str:
    """The missed-call answer: refuse unanswered, so the ring costs the caller nothing
    ("busy" sounds like a line in use rather than a number out of service)."""
    response = VoiceResponse()
    response.reject(reason="busy")
    return response.to_xml()


def render_alert(settings, day: date, menu: Menu, alert, callback_id: int, retries: int) -> str:
    """An emergency alert call to a responder: the case number, "bấm một để nhận" (a
    ``hotline.services.calls.AlertCall``); thanks once accepted, a word when someone else
    took it first."""
    renderer = Renderer(settings, catalogue_on(day), menu)
    response = VoiceResponse()
    if alert.accepted:
        renderer.prompts(response, ("alert_accepted", "goodbye"))
    elif alert.number is None or not alert.waiting:
        renderer.prompts(response, ("alert_taken", "goodbye"))
    elif retries > ALERT_RETRIES:
        renderer.prompts(response, ("goodbye",))
    else:
        action = renderer.url(ALERT_PATH, callback=callback_id, r=retries + 1)
        verb = response.gather(num_digits=1, finish_on_key="", timeout=8, action=action,
                               method="POST")
        renderer.prompts(verb, ("alert_intro", *digit_prompt_keys(alert.number),
                                "alert_press_one"))
        response.redirect(action, method="POST")  # silence: the same question again
        return response.to_xml()
    response.hangup()
    return response.to_xml()


NOTICE_PATH = "/ivr/notice"
NOTICE_TIMEOUT = 8
PHONE_PAUSE = 1  # seconds between the groups of a phone number read out


def render_notice(settings, day: date, menu: Menu, screen) -> str:
    """A voice notice call to a member (a ``voice_notices.NoticeScreen``): the notice and
    its keys in a <Gather>, a reply to a key then goodbye, or the short message for an
    answering machine."""
    from hotline.services import voice_notices

    renderer = Renderer(settings, catalogue_on(day), menu)
    response = VoiceResponse()
    kind = voice_notices.KINDS.get(screen.kind or "")
    goodbye = (voice_notices.GOODBYE,)
    if screen.machine and kind is not None:
        renderer.prompts(response, (*kind.machine, *goodbye))
        response.hangup()
        return response.to_xml()
    renderer.prompts(response, screen.prompts)
    if kind is None or not screen.ask:
        if tuple(screen.prompts[-1:]) != goodbye:
            renderer.prompts(response, goodbye)
        response.hangup()
        return response.to_xml()
    action = renderer.url(NOTICE_PATH, callback=screen.callback_id, n=screen.step,
                          r=screen.retries)
    verb = response.gather(num_digits=1, finish_on_key="", timeout=NOTICE_TIMEOUT,
                           action=action, method="POST")
    if screen.read:
        _read_notice(renderer, verb, kind, screen.args)
    renderer.prompts(verb, (kind.ask,))
    response.redirect(action, method="POST")  # silence: the service asks once more
    return response.to_xml()


def _read_notice(renderer: Renderer, verb, kind, args: Mapping[str, str]) -> None:
    """The notice's prompts with its slots filled: numbers digit by digit, a phone number
    slowly and twice, names said, a meeting's day and hour."""
    from datetime import datetime

    from ivr.actions import date_prompts, meeting_prompts

    for item in kind.said:
        value = args.get(item.strip("{}"), "")
        if item == "{number}":
            renderer.prompts(verb, digit_prompt_keys(value))
        elif item == "{phone}":
            groups = value.split() or [value]
            for heading in (None, "notice_phone_again"):
                if heading:
                    verb.pause(length=PHONE_PAUSE)
                    renderer.prompts(verb, (heading,))
                for group in groups:
                    renderer.prompts(verb, digit_prompt_keys(group))
                    verb.pause(length=PHONE_PAUSE)
        elif item in ("{provider}", "{text}"):
            renderer.prompts(verb, (Said(value),))
        elif item == "{when}":
            try:
                at = datetime.fromisoformat(value)
            except ValueError:
                continue
            renderer.prompts(verb, meeting_prompts(at)[1:])  # without "Buổi họp tới"
        elif item == "{date}":
            try:
                day = date.fromisoformat(value)
            except ValueError:  # queued before the date was kept: the words around it only
                continue
            renderer.prompts(verb, date_prompts(day))
        elif item == "{recording}":
            # A voice broadcast's staff recording, played; its text said if the file is gone.
            if broadcast_sound(renderer.broadcasts_dir, value) is not None:
                verb.play(renderer.url(AUDIO_PATH + value))
            else:
                renderer.prompts(verb, (Said(args.get("text", "")),))
        else:
            renderer.prompts(verb, (item,))
