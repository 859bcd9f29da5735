"""Every TwiML document the line can answer, and every call it places, is one Twilio
documents (``tests/ivr/twiml_spec.py``, written from Twilio's TwiML and Calls references).

The documents are collected from the registries, not from a hand list: every node of the
voice menu with every phone key (and silence, a wrong key, the last retry, a number on a
number entry), by a caller who agreed and by one never seen; every voice notice kind
answered by her and by a machine, then every key and silence; whatever a <Record> or a
<Dial> among them leads to (a recording, none, answered, not); the start of a call, a
callback answered, the missed-call number, the alert calls' states, the status callbacks,
and the apology when the database is down. All of it three times: with no sound files
(<Say>), with a staff recording (mp3) for every prompt, and with the rendered wav files
(<Play>). Every URL in them must be an absolute URL under the public URL of a route the app
serves with that method (a <Play> file answers 200, as a type <Play> plays). Then the calls
the scheduler places for all that was queued go through the real twilio client to the local
fake Twilio, and their parameters are checked against the Calls resource.
"""

from __future__ import annotations

import wave
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import MethodNotAllowed, NotFound

from audio.prompts import catalogue_at, sound_dirs
from audio.render import file_name
from hotline.db import session_scope
from hotline.models import CallbackRequest, Person, Role
from hotline.services import calls, voice_notices
from ivr import flow
from ivr.menu import KEYS, MENU
from ivr.twiml import ALERT_RETRIES, render_alert
from scheduler import jobs
from tests.conftest import PUBLIC_URL, at
from tests.emergency_support import clock_at, fake, placed, settings  # noqa: F401 (fixtures)
from tests.factories import create_group, create_person, join
from tests.ivr import twiml_spec
from tests.ivr.ivr_caller import Caller, fresh_sid, sign

T0 = at("2026-12-03 09:00")  # a Thursday, inside the notice hours
NUMBERS = ("1", "9", "12", "99", "1024", "0000000001")  # keyed on number entry pages
SLOT_VALUES = {"number": "1024", "provider": "Trung tâm trợ giúp pháp lý",
               "phone": "1800 1233", "when": "2026-12-04T15:30:00", "date": "2027-01-31",
               "text": "Họp nhóm tháng này nghỉ."}
BROADCAST_FILE = "bc-0123456789abcdef.wav"


class Answers:
    """The TwiML documents the app answered, with what produced each."""

    def __init__(self) -> None:
        self.docs: list[tuple[str, bytes]] = []

    def last_action(self) -> str | None:
        """The path of the last document's <Gather> action, if it waits for a key."""
        import xml.etree.ElementTree as ET

        gather = ET.fromstring(self.docs[-1][1]).find("Gather")
        return None if gather is None else gather.get("action").removeprefix(PUBLIC_URL)

    def keep(self, where: str, resp) -> None:
        assert resp.status_code == 200, (where, resp.status_code, resp.data[:300])
        assert resp.mimetype == "text/xml", (where, resp.mimetype)
        self.docs.append((where, resp.data))


def post(client, answers: Answers, where: str, path: str, form: dict):
    resp = client.post(path, data=form, headers=sign(path, form))
    answers.keep(where, resp)
    return resp


def write_wav(path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"\0\0" * 8000)


@pytest.fixture(params=["say", "play", "rendered"])
def sounds(request, settings):  # noqa: F811
    """``say``: no sound file at all; ``play``: a staff recording (mp3) for every prompt and
    the voice broadcast's file; ``rendered``: espeak-ng's wav of every prompt's text."""
    out, recordings = sound_dirs(settings)
    if request.param == "play":
        recordings.mkdir(parents=True, exist_ok=True)
        for key in catalogue_at(T0):
            (recordings / f"{key}.mp3").write_bytes(b"\xff\xfb\x90\x00" * 64)
        write_wav(out / "broadcasts" / BROADCAST_FILE)
    elif request.param == "rendered":
        for key, text in catalogue_at(T0).items():
            write_wav(out / file_name(key, text, ".wav"))
    return request.param


@pytest.fixture
def line(db):
    """Peer educators on duty (so <Dial> has numbers) and a group with a meeting."""
    for order, trained in ((1, True), (2, False)):
        create_person(db, T0, phone=f"+8490100001{order}", role=Role.PEER_EDUCATOR,
                      trained_violence=trained, on_duty=True, duty_order=order)
    create_person(db, T0, phone="+84901000021", role=Role.COORDINATOR, duty_order=1)
    group = create_group(db, T0, "CD01")
    db.commit()
    return group


def keys_for(node) -> list[str | None]:
    """What a caller can send on ``node``: silence (None), every phone key, and on a number
    entry page whole numbers."""
    pressed: list[str | None] = [None, *sorted(KEYS)]
    if node.gather_digits > 1:
        pressed += list(NUMBERS)
    return pressed


def agreed_caller(client, db, group) -> Caller:
    caller = Caller(client).call().agree()
    person = db.scalar(select(Person).where(Person.phone == caller.phone))
    join(db, T0, person, group)
    db.commit()
    return caller


def walk_menu(client, db, group, answers: Answers) -> None:
    """Every node, every key; the last retry for silence and a wrong key; an action run for
    a member who agreed and for a stranger."""
    member = agreed_caller(client, db, group)
    stranger = Caller(client).call()
    for key, node in MENU.nodes.items():
        wrong = next((k for k in "12345678" if k not in node.choices), None)
        for pressed in keys_for(node):
            retries = [0]
            if pressed is None or pressed == wrong:
                retries.append(node.max_retries)
            runs = pressed is not None and isinstance(flow.press(MENU, key, pressed), flow.Run)
            for r in retries:
                # A move's answer is the same for anyone; an action's depends on who calls
                # and may change her (opt-out, erase): a fresh member each, and a stranger.
                callers = [("member", agreed_caller(client, db, group) if runs else member)]
                if runs:
                    callers.append(("stranger", stranger))
                for who, caller in callers:
                    path = f"/ivr/menu?node={key}&n=5&r={r}"
                    if key == "consent":
                        path += "&resume=report"
                    post(client, answers, f"{who} {key} {pressed!r} r={r}", path,
                         caller.form(Digits=pressed))
    # A node the menu no longer has (a deploy during a call).
    post(client, answers, "gone node", "/ivr/menu?node=gone&n=5&r=0", member.form(Digits="1"))


def follow(client, answers: Answers) -> None:
    """Whatever the <Record> and <Dial> verbs collected so far lead to, once per URL."""
    import xml.etree.ElementTree as ET

    seen: set[str] = set()
    for where, xml in list(answers.docs):
        root = ET.fromstring(xml)
        for el in root:
            action = el.get("action")
            if el.tag not in ("Record", "Dial") or action in seen:
                continue
            seen.add(action)
            path = action.removeprefix(PUBLIC_URL)
            caller = Caller(client)
            if el.tag == "Dial":
                for status in ("completed", "no-answer", "busy", "failed"):
                    post(client, answers, f"{where} -> dialed {status}", path,
                         caller.form(DialCallStatus=status))
                continue
            sid = fresh_sid("RE")
            media = f"https://api.twilio.com/2010-04-01/Accounts/AC{'0' * 32}/Recordings/{sid}"
            post(client, answers, f"{where} -> recorded", path, caller.form(
                RecordingSid=sid, RecordingUrl=media, RecordingDuration=7, Digits="#"))
            post(client, answers, f"{where} -> nothing recorded", path, caller.form())
            status_path = el.get("recordingStatusCallback").removeprefix(PUBLIC_URL)
            form = caller.form(RecordingSid=sid, RecordingUrl=media, RecordingDuration=7,
                               RecordingStatus="completed")
            resp = client.post(status_path, data=form, headers=sign(status_path, form))
            assert resp.status_code == 204 and resp.data == b""


def notice_calls(client, db, rt, answers: Answers) -> None:
    """Every notice kind: answered by her and by a machine, then each key and silence."""
    for name, kind in voice_notices.KINDS.items():
        person = create_person(db, T0, registered_at=T0, notify_channel="voice")
        db.commit()
        say = {slot: SLOT_VALUES.get(slot, "") for slot in kind.slots}
        if "recording" in say:
            say["recording"] = BROADCAST_FILE
            say["text"] = SLOT_VALUES["text"]
        with session_scope(rt.sessions) as s:
            callback = voice_notices.queue(s, T0, s.get(Person, person.id), name,
                                           ref=f"case:1:{name}", say=say)
            callback_id = callback.id
        for answered_by in ("human", "machine_end_beep", "fax", "unknown", None):
            her = Caller(client, phone=person.phone, outbound=True)
            post(client, answers, f"notice {name} answered by {answered_by}",
                 f"/ivr/notice?callback={callback_id}&n=0",
                 her.form(AnsweredBy=answered_by))
        for pressed in [None, *sorted(KEYS), "11"]:
            for r in (0, voice_notices.SILENCE_RETRIES) if pressed is None else (0,):
                her = Caller(client, phone=person.phone, outbound=True)
                post(client, answers, f"notice {name} {pressed!r} r={r}",
                     f"/ivr/notice?callback={callback_id}&n=1&r={r}", her.form(Digits=pressed))
    stranger = Caller(client, outbound=True)
    post(client, answers, "notice unknown", "/ivr/notice?callback=999999&n=0", stranger.form())


def call_starts(client, db, rt, group, answers: Answers) -> None:
    """A first call, a known caller, a callback answered, the missed-call number."""
    first = Caller(client)
    post(client, answers, "incoming first", "/ivr/incoming", first.form(CallStatus="ringing"))
    member = agreed_caller(client, db, group)
    post(client, answers, "incoming member", "/ivr/incoming",
         Caller(client, phone=member.phone).form(CallStatus="ringing"))
    with session_scope(rt.sessions) as s:
        callback_id = s.scalar(select(CallbackRequest.id).limit(1))
    post(client, answers, "callback answered", f"/ivr/incoming?callback={callback_id or 1}",
         Caller(client, outbound=True).form(CallStatus="in-progress"))
    post(client, answers, "missed call", "/ivr/missed", Caller(client).form())


def alert_calls(settings, answers: Answers) -> None:  # noqa: F811
    """Every state ``render_alert`` tells apart (``calls.AlertCall``), and a wrong key's
    retries up to the last."""
    day = T0.date()
    states = {"waiting": calls.AlertCall(1024, True),
              "accepted": calls.AlertCall(1024, False, True),
              "taken": calls.AlertCall(1024, False), "unknown": calls.AlertCall(None, False)}
    for name, alert in states.items():
        for retries in range(ALERT_RETRIES + 2):
            xml = render_alert(settings, day, MENU, alert, 7, retries)
            answers.docs.append((f"alert {name} r={retries}", xml.encode()))


def check_urls(client, answers: Answers, sounds: str) -> list[str]:
    """Every URL: absolute, under the public URL, a route the app serves with that method;
    a <Play> file is there (200) as a type <Play> plays."""
    adapter = client.application.url_map.bind(urlsplit(PUBLIC_URL).hostname)
    wrong, played = [], set()
    for where, xml in answers.docs:
        for tag, url, method in twiml_spec.urls(xml):
            if not url.startswith(PUBLIC_URL + "/"):
                wrong.append(f"{where}: <{tag}> {url!r} is not under {PUBLIC_URL}")
                continue
            parts = urlsplit(url)
            try:
                adapter.match(parts.path, method=method)
            except (NotFound, MethodNotAllowed) as exc:
                wrong.append(f"{where}: <{tag}> {method} {parts.path}: {type(exc).__name__}")
            if tag == "Play":
                played.add(parts.path)
    for path in sorted(played):
        resp = client.get(path)
        resp.close()
        if resp.status_code != 200:
            wrong.append(f"<Play> {path}: {resp.status_code}")
        elif resp.mimetype not in twiml_spec.PLAY_TYPES:
            wrong.append(f"<Play> {path}: {resp.mimetype}, not a type <Play> plays")
    if sounds != "say":
        assert played, "a sound file for every prompt, and nothing played"
    return wrong


def test_every_twiml_document_the_line_answers_is_documented_twiml(
        client, db, rt, settings, line, sounds, clock_at, monkeypatch):  # noqa: F811
    clock_at(T0)
    answers = Answers()
    walk_menu(client, db, line, answers)
    follow(client, answers)
    notice_calls(client, db, rt, answers)
    call_starts(client, db, rt, line, answers)
    alert_calls(settings, answers)

    form = Caller(client).form()
    resp = client.post("/ivr/status", data={**form, "CallStatus": "completed",
                                            "CallDuration": "42"},
                       headers=sign("/ivr/status", {**form, "CallStatus": "completed",
                                                    "CallDuration": "42"}))
    assert resp.status_code == 204 and resp.data == b""  # a status callback: no TwiML

    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    monkeypatch.setattr(calls, "start_call", down)
    post(client, answers, "database down", "/ivr/incoming", Caller(client).form())
    monkeypatch.undo()
    clock_at(T0)

    tags = {el for _, xml in answers.docs for el in _tags(xml)}
    # The walk reached every verb the line renders; a verb never reached is never checked.
    assert {"Say" if sounds == "say" else "Play", "Pause", "Gather", "Record", "Dial",
            "Number", "Redirect", "Hangup", "Reject"} <= tags, tags
    found = [f"{where}: {problem}" for where, xml in answers.docs
             for problem in twiml_spec.problems(xml)]
    assert len(answers.docs) > 20 * len(MENU.nodes)
    assert found == [], "\n".join(sorted(set(found))[:40])
    assert check_urls(client, answers, sounds) == []


def _tags(xml: bytes):
    import xml.etree.ElementTree as ET

    return {el.tag for el in ET.fromstring(xml).iter()}


def test_every_call_the_line_places_sends_documented_calls_parameters(
        client, db, rt, fake, line, clock_at):  # noqa: F811
    clock_at(T0)
    answers = Answers()
    # Queue one of each: a callback (key 4), an emergency's alert calls (key 9), and a
    # notice of every kind.
    for digits in ("4", "9"):
        caller = agreed_caller(client, db, line)
        post(client, answers, f"main {digits}", "/ivr/menu?node=main&n=5&r=0",
             caller.form(Digits=digits))
    for name, kind in voice_notices.KINDS.items():
        person = create_person(db, T0, registered_at=T0, notify_channel="voice")
        db.commit()
        with session_scope(rt.sessions) as s:
            voice_notices.queue(s, T0, s.get(Person, person.id), name, ref=f"x:{name}",
                                say={slot: "1" for slot in kind.slots})
    with session_scope(rt.sessions) as s:
        queued = s.scalars(select(CallbackRequest.reason)).all()
    assert {"notice", "ivr"} <= set(queued) and len(queued) > len(voice_notices.KINDS)
    for minutes in range(0, 8 * 60, 10):  # the ladder calls one responder per 10 minutes
        now = T0 + timedelta(minutes=minutes)
        clock_at(now)
        jobs.escalate_cases(rt, now)
        jobs.place_callbacks(rt, now)
    requests = [r for r in fake.requests if r.path.endswith("/Calls.json")]
    assert len(requests) >= len(queued)
    assert any("/ivr/alert" in r.form["Url"] for r in requests)  # the emergency's ladder
    adapter = client.application.url_map.bind(urlsplit(PUBLIC_URL).hostname)
    found = []
    for request in requests:
        found += twiml_spec.call_problems(request.form_lists)
        for name, method_name in twiml_spec.CALL_URLS.items():
            for url in request.form_lists.get(name, []):
                method = request.form_lists.get(method_name, ["POST"])[0]
                if not url.startswith(PUBLIC_URL + "/"):
                    found.append(f"{name} {url!r} is not under {PUBLIC_URL}")
                    continue
                try:
                    adapter.match(urlsplit(url).path, method=method)
                except (NotFound, MethodNotAllowed) as exc:
                    found.append(f"{name} {method} {url}: {type(exc).__name__}")
    assert found == [], "\n".join(sorted(set(found)))
    # The alert calls answered over HTTP (not only rendered): a wrong key, silence, then 1.
    for request in [r for r in requests if "/ivr/alert" in r.form["Url"]][:2]:
        responder = Caller(client, phone=request.form["To"], outbound=True)
        path = request.form["Url"].removeprefix(PUBLIC_URL)
        for digits in (None, "2", None, "1", "1"):
            post(client, answers, f"alert {path} {digits!r}", path,
                 responder.form(Digits=digits))
            path = answers.last_action() or path
    alerts = [_tags(xml) for where, xml in answers.docs if where.startswith("alert")]
    assert any("Gather" in t for t in alerts) and any("Hangup" in t for t in alerts)
    assert [p for where, xml in answers.docs for p in twiml_spec.problems(xml)] == []
    # What the notices ask for is what the docs name: detection that waits for the beep.
    notices = [r for r in requests if "/ivr/notice" in r.form["Url"]]
    assert notices and all(r.form["MachineDetection"] == "DetectMessageEnd" for r in notices)
    assert all("MachineDetection" not in r.form for r in requests if r not in notices)


def test_the_table_refuses_what_twilio_does_not_document():
    """The checker can fail: made-up verbs, attributes, values, nesting and call
    parameters are each reported."""
    bad = ('<Response><Gather numDigits="0" finishOnKey="##" actionOnEmpty="true">'
           '<Record/><Say voice="alice" language="vi">x</Say></Gather>'
           '<Dial timeout="2"><Number>not a number</Number></Dial>'
           '<Record recordingStatusCallbackEvent="done" maxLength="1"/>'
           '<Reject reason="no"/><Speak/></Response>')
    found = "\n".join(twiml_spec.problems(bad))
    for expected in ("numDigits='0'", "finishOnKey='##'", "actionOnEmpty>", "<Record> inside",
                     "voice='alice'", "language='vi'", "timeout='2'", "not a number",
                     "recordingStatusCallbackEvent='done'", "maxLength='1'", "reason='no'",
                     "<Speak> is not in the table"):
        assert expected in found, (expected, found)
    ok = ('<Response><Gather numDigits="1" finishOnKey="" timeout="6" action="https://h/x" '
          'method="POST"><Say voice="Google.vi-VN-Standard-A" language="vi-VN">Chào</Say>'
          '<Pause length="1"/></Gather><Redirect method="POST">https://h/x</Redirect>'
          '</Response>')
    assert twiml_spec.problems(ok) == []
    assert "the default" in "".join(twiml_spec.problems(
        '<Response><Say language="vi-VN">Chào</Say></Response>'))
    call = twiml_spec.call_problems({
        "To": ["+84912345678"], "From": ["+842400000000"], "Url": ["https://h/ivr/notice"],
        "MachineDetection": ["Sometimes"], "StatusCallbackEvent": ["answered", "picked-up"],
        "Timeout": ["1"], "IfMachine": ["Hangup"]})
    assert set(call) == {"MachineDetection='Sometimes': not an allowed value",
                         "StatusCallbackEvent='picked-up': not an allowed value",
                         "Timeout='1': not an allowed value", "IfMachine: not a Calls parameter",
                         "StatusCallbackEvent without StatusCallback"}
