"""The phone simulator page and its JSON endpoints (texts, calls, the phone's inbox)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import abort, current_app, jsonify, render_template, request
from werkzeug.datastructures import MultiDict

from console import auth, bp, media, prompts, simulator
from console.common import me, now, rt, unit
from console.forms import FormInvalid, SimulatorForm, parse
from hotline import clock, queries
from hotline.models import CallStatus, RecordingStatus
from hotline.phones import PhoneError, normalize
from hotline.services.audit import audit
from hotline.services.calls import webhook_path


def _enabled() -> None:
    if not simulator.enabled(rt().settings):
        abort(409)


def _calls_back() -> None:
    if not simulator.calls_back(rt().settings):
        abort(409)


def _phone(raw: str | None) -> str:
    try:
        return normalize(raw or "")
    except PhoneError:
        abort(400)


def _data() -> SimulatorForm:
    """The posted fields: a flat JSON object (the page's fetch) or a form. JSON that is not
    an object of strings, numbers, booleans or nulls (a list, a string, nesting), or a value
    the form refuses, is a 400."""
    source = request.form
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or any(isinstance(v, dict | list) for v in data.values()):
            abort(400)
        source = MultiDict({k: str(v) for k, v in data.items() if v is not None})
    try:
        return parse(SimulatorForm, source)
    except FormInvalid:
        abort(400)


def _inbox(phone: str) -> dict:
    with unit() as db:
        rows = queries.simulator.phone_inbox(db, phone)
        pending = queries.simulator.phone_pending(db, phone)
    return {
        "phone": phone,
        "pending": pending,
        "messages": [
            {"id": m.id, "body": m.body, "at": clock.local(m.sent_at or m.created_at)
             .strftime("%d/%m %H:%M"), "status": m.status}
            for m in rows
        ],
    }


@bp.get("/simulator", endpoint="simulator")
@auth.allow(*auth.STAFF)
def simulator_page():
    with unit() as db:
        return render_template(
            "console/simulator.html", enabled=simulator.enabled(rt().settings),
            calls_back=simulator.calls_back(rt().settings),
            people=queries.people.known_phones(db), hotline=rt().settings.hotline_number,
        )


@bp.get("/simulator/inbox")
@auth.allow(*auth.STAFF)
def simulator_inbox():
    return jsonify(_inbox(_phone(request.args.get("phone"))))


@bp.post("/simulator/sms")
@auth.allow(*auth.STAFF)
def simulator_sms():
    """Text the line from the simulated phone; the line's answers are delivered at once."""
    _enabled()
    data = _data()
    body, phone = data.body.data, _phone(data.phone.data)
    with unit() as db:
        audit(db, now(), me(db), "simulator_sms", "phone", phone[-4:])
    simulator.text_line(rt(), phone, body)
    return jsonify(_inbox(phone))


@bp.post("/simulator/deliver")
@auth.allow(*auth.STAFF)
def simulator_deliver():
    """Deliver what the outbox holds now (the scheduler does it every few seconds too)."""
    _enabled()
    phone = _phone(_data().phone.data)
    simulator.deliver(rt(), now())
    return jsonify(_inbox(phone))


def _answer(path: str, form: dict[str, str]) -> dict:
    settings = rt().settings
    answer = simulator.post(current_app._get_current_object(), settings, path, form)
    result = {"status": answer.status, "url": path, "twiml": answer.twiml, "verbs": []}
    if answer.status == 200 and answer.twiml.strip().startswith("<"):
        try:
            result["verbs"] = simulator.parse_twiml(answer.twiml, settings, path,
                                                    prompts.texts(now()))
        except (simulator.SimulatorError, SyntaxError):
            result["verbs"] = []
    return result


@bp.post("/simulator/call")
@auth.allow(*auth.STAFF)
def simulator_call():
    """Ring the line: Twilio's first webhook for an inbound call."""
    _enabled()
    phone, sid, result = _ring(simulator.INCOMING_PATH, "simulator_call")
    return jsonify({"call_sid": sid, **result})


def _ring(path: str, action: str) -> tuple[str, str, dict]:
    """A new call from the posted phone to ``path`` (audited as ``action``): the phone, the
    call's sid and the line's answer."""
    phone = _phone(_data().phone.data)
    sid = simulator.new_call_sid()
    with unit() as db:
        audit(db, now(), me(db), action, "call", sid)
    form = simulator.call_form(rt().settings, sid, phone, status=CallStatus.RINGING)
    return phone, sid, _answer(path, form)


@bp.post("/simulator/call/step")
@auth.allow(*auth.STAFF)
def simulator_step():
    """The next webhook of a call: keys for a <Gather>, a recording for a <Record>, the
    <Redirect> after silence, the end of a <Dial>, or the hang-up's status callback."""
    _enabled()
    step = _step(_data())
    result = _answer(step.path, step.form)
    if step.callback is not None:
        result["callback_status"] = _answer(step.callback, step.callback_form)["status"]
    return jsonify(result)


@dataclass
class _Step:
    """The webhook a call step makes Twilio post (and, after a recording, its status
    callback)."""

    path: str
    form: dict[str, str]
    callback: str | None = None
    callback_form: dict[str, str] = field(default_factory=dict)


def _ivr_path(raw: str) -> str:
    try:
        return simulator.ivr_path(raw, rt().settings)
    except simulator.SimulatorError:
        abort(400)


def _step(data: SimulatorForm) -> _Step:
    """What the page's step means: 400 for an unknown kind, a bad call sid or URL."""
    settings, kind = rt().settings, data.kind.data
    sid, phone = data.call_sid.data, _phone(data.phone.data)
    outbound = data.direction.data == "outbound"  # a callback the line placed
    if not sid.startswith("CA") or kind not in _STEP_FIELDS:
        abort(400)
    if kind == "hangup":
        return _Step(simulator.STATUS_PATH, simulator.call_form(
            settings, sid, phone, status=CallStatus.COMPLETED, outbound=outbound,
            CallDuration=str(data.duration.data or 0)))
    step = _Step(_ivr_path(data.url.data), {})
    extra = _STEP_FIELDS[kind](data, step, lambda **more: simulator.call_form(
        settings, sid, phone, outbound=outbound, **more))
    step.form = simulator.call_form(settings, sid, phone, outbound=outbound, **extra)
    return step


def _gather(data, step, call_form) -> dict[str, str]:
    extra = {"Digits": "".join(c for c in data.digits.data if c in "0123456789*#")}
    if data.finished_on_key.data:
        extra["FinishedOnKey"] = data.finished_on_key.data
    return extra


def _record(data, step, call_form) -> dict[str, str]:
    upload = request.files.get("recording")
    rec_sid, url, duration = simulator.save_recording(
        rt().settings, upload.read() if upload else None, upload.mimetype if upload else None,
        data.duration.data)
    if data.status_callback.data:
        step.callback = _ivr_path(data.status_callback.data)
        step.callback_form = call_form(
            RecordingSid=rec_sid, RecordingUrl=url, RecordingDuration=str(duration),
            RecordingStatus=RecordingStatus.COMPLETED, RecordingChannels="1",
            RecordingSource="RecordVerb")
    return {"RecordingSid": rec_sid, "RecordingUrl": url, "RecordingDuration": str(duration),
            "Digits": data.digits.data or "#"}


def _dial(data, step, call_form) -> dict[str, str]:
    return {"DialCallStatus": data.dial_status.data or CallStatus.NO_ANSWER,
            "DialCallDuration": "0"}


_STEP_FIELDS = {"gather": _gather, "record": _record, "dial": _dial, "hangup": None,
                "redirect": lambda data, step, call_form: {}}


# --------------------------------------------------------------------------------------------
# Ring once ("nháy máy") and be called back
# --------------------------------------------------------------------------------------------


def _callback_state(phone: str) -> dict | None:
    with unit() as db:
        found = queries.simulator.open_callback(db, phone, now(), rt().settings)
        if found is None:
            return None
        callback, due = found
        return {"id": callback.id, "status": callback.status, "attempts": callback.attempts,
                "due": clock.local(due).strftime("%H:%M")}


@bp.post("/simulator/missed")
@auth.allow(*auth.STAFF)
def simulator_missed():
    """Ring the missed-call number once and hang up, as a member short of credit does: the
    line rejects the call (free for her) and queues a callback."""
    _calls_back()
    phone, sid, result = _ring(simulator.MISSED_PATH, "simulator_missed_call")
    return jsonify({"call_sid": sid, **result, "callback": _callback_state(phone)})


@bp.get("/simulator/ringing")
@auth.allow(*auth.STAFF)
def simulator_ringing():
    """Callbacks the line is placing to this number now: the page rings for them. (The
    simulator gateway's place_call cannot reach the browser, so the page asks.)"""
    phone = _phone(request.args.get("phone"))
    if not simulator.calls_back(rt().settings):
        return jsonify({"phone": phone, "calls": []})
    with unit() as db:
        rows = queries.simulator.ringing_callbacks(db, phone)
    return jsonify({"phone": phone, "calls": [
        {"callback_id": r.callback_id, "call_sid": r.call_sid, "reason": r.reason,
         "since": clock.local(r.since).strftime("%H:%M:%S")} for r in rows
    ]})


def _ringing(data) -> tuple[str, queries.simulator.RingingCallback]:
    """The number and the callback ringing it that a request names; 409 when it has stopped
    ringing (answered, declined, or settled meanwhile)."""
    phone, callback_id = _phone(data.phone.data), data.callback_id.data
    if callback_id is None:
        abort(400)
    with unit() as db:
        rows = queries.simulator.ringing_callbacks(db, phone, callback_id)
    if not rows:
        abort(409)
    return phone, rows[0]


@bp.post("/simulator/callback/answer")
@auth.allow(*auth.STAFF)
def simulator_answer():
    """Pick up the line's callback: Twilio's first webhook for an answered outbound call,
    with the CallSid the voice gateway returned; then the menu as usual."""
    _calls_back()
    phone, ringing = _ringing(_data())
    with unit() as db:
        audit(db, now(), me(db), "simulator_answer", "call", ringing.call_sid,
              callback=ringing.callback_id)
    form = simulator.call_form(rt().settings, ringing.call_sid, phone,
                               status=CallStatus.IN_PROGRESS, outbound=True)
    path = f"{webhook_path(ringing.reason)}?callback={ringing.callback_id}"
    return jsonify({"call_sid": ringing.call_sid, "direction": "outbound",
                    **_answer(path, form)})


@bp.post("/simulator/callback/decline")
@auth.allow(*auth.STAFF)
def simulator_decline():
    """Let the callback ring out: Twilio's ``no-answer`` status, so the line tries again
    later (15 min, 30 min, 1 h, then gives up)."""
    _calls_back()
    phone, ringing = _ringing(_data())
    with unit() as db:
        audit(db, now(), me(db), "simulator_decline", "call", ringing.call_sid,
              callback=ringing.callback_id)
    form = simulator.call_form(rt().settings, ringing.call_sid, phone, status=CallStatus.NO_ANSWER,
                               outbound=True, CallDuration="0")
    result = _answer(simulator.STATUS_PATH, form)
    return jsonify({"call_sid": ringing.call_sid, **result, "callback": _callback_state(phone)})


@bp.get("/simulator/recordings/<sid>")
@auth.allow(*auth.CASEWORK)
def simulator_recording(sid: str):
    """The RecordingUrl the simulator handed to the voice line: played like any recording,
    through its case (access checked, sensitive reads logged)."""
    from console.views_cases import recording

    if media.simulator_file(rt().settings, sid) is None:
        abort(404)
    with unit() as db:
        rec = queries.simulator.recording_by_media(db, media.SIMULATOR_PATH + sid)
        if rec is None:
            abort(404)
        rec_id = rec.id
    return recording(rec_id)
