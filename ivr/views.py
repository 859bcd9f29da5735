"""Voice webhooks: each parses Twilio's request, calls one service in
``hotline.services.calls`` and renders TwiML. The menu walking is ``ivr.flow`` (pure data).

Step numbers travel in the URLs (``n``), so a request Twilio retries maps to the step it
already stored. Every Twilio webhook is signature-checked; only prompt audio is public.
"""

from __future__ import annotations

from flask import Response, abort, request, send_file

from audio.prompts import catalogue_at, sound_file
from hotline import clock
from hotline.db import session_scope
from hotline.models import Direction
from hotline.services import calls, voice_notices
from hotline.services.outbox import Outbox
from hotline.text import clean
from ivr import actions, bp, flow  # noqa: F401 (actions: the menu's actions register)
from ivr.menu import MENU
from ivr.twiml import reject, render_alert, render_notice, render_screen
from web import runtime
from web.signatures import twilio_signed

GATEWAY = "twilio"
MAX_INT_DIGITS = 9  # Twilio's numbers are small; anything longer is not from Twilio


def _twiml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


def _text(values, name: str, limit: int = 64) -> str:
    """A request field as stored: NFC, NUL and broken characters replaced, trimmed, cut."""
    return clean(values.get(name, "")).strip()[:limit]


def _int(values, name: str, default: int | None = None) -> int | None:
    """A small non-negative integer field (a step, a duration, an id); else ``default``."""
    raw = values.get(name, "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= MAX_INT_DIGITS else default


def _call_ref() -> calls.CallRef:
    """The call this webhook is about; 400 without a CallSid."""
    sid = request.form.get("CallSid", "").strip()[:64]
    if not sid or not sid.isprintable():  # NUL and controls: no sid, and PostgreSQL refuses them
        abort(400)
    direction = Direction.from_twilio(request.form.get("Direction", ""))
    caller = request.form.get("To" if direction == Direction.OUT else "From", "")
    return calls.CallRef(GATEWAY, sid, caller, direction)


def _step() -> int:
    step = _int(request.args, "n")
    if step is None:
        abort(400)
    return step


def _retries() -> int:
    return _int(request.args, "r", 0)


def _act_ref() -> flow.ActRef:
    return flow.ActRef(_text(request.args, "node", 40), _text(request.args, "key", 32),
                       _int(request.args, "fb", 0))


def _recording() -> dict:
    """The recording fields of a <Record> action or a recording status callback."""
    return {"recording_sid": _text(request.form, "RecordingSid") or None,
            "recording_url": _text(request.form, "RecordingUrl", 2000) or None,
            "duration": _int(request.form, "RecordingDuration")}


def _render(screen: flow.Screen, now) -> Response:
    return _twiml(render_screen(runtime().settings, clock.local(now).date(), screen, MENU))


@bp.post("/incoming")
@twilio_signed
def incoming():
    """A call comes in (or a callback we placed is answered): welcome, consent or menu."""
    ref = _call_ref()
    now = clock.utcnow()
    with session_scope(runtime().sessions) as session:
        start = calls.start_call(
            session, now, ref, question=catalogue_at(now)["consent_ask"],
            callback_id=_int(request.args, "callback"),
        )
    return _render(flow.entry(MENU, start.consent_first, 0), now)


@bp.post("/menu")
@twilio_signed
def menu():
    """The answer to a menu's <Gather> (digits), or the Redirect after it (silence)."""
    ref, now, rt = _call_ref(), clock.utcnow(), runtime()
    answer = flow.answer(MENU, _text(request.args, "node", 40),
                         _text(request.form, "Digits", 32) or None, _step(), _retries(),
                         _text(request.args, "resume", 40))
    result = calls.answer_menu(
        rt.engine, rt.sessions, now, rt.settings, ref, step=answer.step, node=answer.node,
        digits=answer.digits, action=answer.action, question=catalogue_at(now)["consent_ask"])
    return _render(flow.after_answer(MENU, answer, result), now)


@bp.post("/recorded")
@twilio_signed
def recorded():
    """The <Record> action (or the Redirect after it when nothing was recorded)."""
    call_ref, step, retries, ref = _call_ref(), _step(), _retries(), _act_ref()
    now, rt = clock.utcnow(), runtime()
    with session_scope(rt.sessions) as session:
        kept = calls.complaint_recorded(
            session, now, Outbox.for_settings(session, rt.settings), call_ref, step=step,
            node="record_complaint", digits=_text(request.form, "Digits", 32) or None,
            **_recording(), **flow.recording_args(MENU, ref))
    return _render(flow.after_recording(MENU, ref, kept, retries, step), now)


@bp.post("/recording")
@twilio_signed
def recording():
    """Twilio's recording status callback: the media URL (kept private) and the one case."""
    call_ref, ref, recording = _call_ref(), _act_ref(), _recording()
    if recording["recording_sid"] is None:
        return "", 400
    rt = runtime()
    with session_scope(rt.sessions) as session:
        calls.recording_status(
            session, clock.utcnow(), Outbox.for_settings(session, rt.settings), call_ref,
            status=_text(request.form, "RecordingStatus", 16), **recording,
            **flow.recording_args(MENU, ref))
    return "", 204


@bp.post("/dialed")
@twilio_signed
def dialed():
    """The <Dial> of the duty roster ended: goodbye if answered, else voicemail."""
    call_ref, step, ref = _call_ref(), _step(), _act_ref()
    now = clock.utcnow()
    with session_scope(runtime().sessions) as session:
        answered = calls.dial_finished(
            session, now, call_ref, step=step, node="dial_duty",
            dial_status=_text(request.form, "DialCallStatus", 16).lower(),
        )
    return _render(flow.after_dial(MENU, ref, answered, step), now)


@bp.post("/status")
@twilio_signed
def status():
    """Twilio's call status callback: status, outcome, duration and who answered (a
    machine?); settles callbacks."""
    ref = _call_ref()
    with session_scope(runtime().sessions) as session:
        calls.call_status(
            session, clock.utcnow(), ref, status=_text(request.form, "CallStatus", 16).lower(),
            duration=_int(request.form, "CallDuration"),
            answered_by=_text(request.form, "AnsweredBy", 24) or None,
        )
    return "", 204


@bp.post("/missed")
@twilio_signed
def missed():
    """The missed-call number: reject unanswered and queue one callback."""
    ref = _call_ref()
    with session_scope(runtime().sessions) as session:
        calls.missed_call(session, clock.utcnow(), ref)
    return _twiml(reject())


@bp.post("/alert")
@twilio_signed
def alert():
    """An emergency alert call we placed to a responder: answered, or a key pressed."""
    ref, callback_id = _call_ref(), _int(request.args, "callback")
    digits = _text(request.form, "Digits", 8) or None
    now = clock.utcnow()
    rt = runtime()
    with session_scope(rt.sessions) as session:
        answer = calls.alert_answered(session, now, Outbox.for_settings(session, rt.settings),
                                      ref, callback_id, digits)
    retries = _retries() if digits in (None, "*") else 0
    return _twiml(render_alert(rt.settings, clock.local(now).date(), MENU, answer,
                               callback_id or 0, retries))


@bp.post("/notice")
@twilio_signed
def notice():
    """A voice notice call we placed to a member: answered (by her or a machine), a key
    pressed, or silence."""
    ref, callback_id, step = _call_ref(), _int(request.args, "callback"), _int(request.args, "n", 0)
    now = clock.utcnow()
    rt = runtime()
    with session_scope(rt.sessions) as session:
        screen = voice_notices.answer(
            session, now, Outbox.for_settings(session, rt.settings), ref, callback_id,
            step=step, retries=_retries(), digits=_text(request.form, "Digits", 8) or None,
            answered_by=_text(request.form, "AnsweredBy", 24) or None)
    return _twiml(render_notice(rt.settings, clock.local(now).date(), MENU, screen))


@bp.get("/audio/<name>")
def audio(name: str):
    """A prompt's sound file, for Twilio's <Play>: content type, ETag, caching, 304."""
    sound = sound_file(runtime().settings, name)
    if sound is None:
        abort(404)
    response = send_file(sound.path, mimetype=sound.mimetype, etag=sound.etag,
                         max_age=sound.max_age, conditional=True)
    response.cache_control.immutable = sound.immutable
    return response
