"""The phone simulator: texts through the one SMS entry, calls through the IVR's webhooks."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from console import simulator
from hotline.models import AuditLog, Call, Case, Message, Recording
from tests.conftest import AUTH_TOKEN
from tests.console.conftest import HANG, sign_in

STRANGER = "0987654321"
STRANGER_E164 = "+84987654321"


@pytest.fixture
def admin(as_user):
    return as_user("admin")


def _text(client, body, phone=STRANGER):
    response = client.post("/console/simulator/sms", json={"phone": phone, "body": body})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_texting_dk_and_kn_brings_the_replies(admin, demo):
    inbox = _text(admin, "DK")
    assert inbox["phone"] == STRANGER_E164
    assert any("DONGY" in m["body"] for m in inbox["messages"])
    _text(admin, "DONGY")
    inbox = _text(admin, "KN bi thu hang o cho")
    reply = inbox["messages"][0]["body"]
    assert "so ho so" in reply
    number = int(reply.split("so ho so cua chi/anh la ")[1].split(".")[0])
    case = demo.scalar(select(Case).where(Case.number == number))
    assert case.summary == "bi thu hang o cho" and case.channel == "sms"
    stored = demo.scalars(select(Message).where(Message.direction == "in",
                                                Message.phone == STRANGER_E164)).all()
    assert [m.gateway for m in stored] == ["simulator"] * 3
    assert admin.get(f"/console/simulator/inbox?phone={STRANGER}").get_json()["messages"]
    assert demo.scalar(select(AuditLog).where(AuditLog.action == "simulator_sms"))


def test_inbox_shows_only_what_left_the_outbox_for_that_phone(admin, demo):
    _text(admin, "HD")
    other = admin.get(f"/console/simulator/inbox?phone={HANG}").get_json()
    assert other["messages"] == []
    assert admin.get("/console/simulator/inbox?phone=hello").status_code == 400


def test_simulator_is_off_with_a_real_sms_gateway(console, demo):
    rt = console.extensions["hotline"]
    rt.settings = rt.settings.replace(sms_gateway="twilio")
    client = sign_in(console.test_client(), "admin")
    assert "cổng tin nhắn mô phỏng" in client.get("/console/simulator").get_data(as_text=True)
    response = client.post("/console/simulator/sms", json={"phone": STRANGER, "body": "DK"})
    assert response.status_code == 409
    assert not demo.scalars(select(Message)).all()


# --------------------------------------------------------------------------------------------
# Calls
# --------------------------------------------------------------------------------------------


class Phone:
    """Plays the simulator page's part: follows the verbs the console hands back."""

    def __init__(self, client, phone=STRANGER, direction=None):
        self.client, self.phone, self.direction = client, phone, direction
        self.heard: list[str] = []
        self.sid = None

    def call(self):
        answer = self.client.post("/console/simulator/call", json={"phone": self.phone})
        assert answer.status_code == 200
        data = answer.get_json()
        self.sid = data["call_sid"]
        return self.play(data)

    def play(self, data):
        """Hear everything up to the next thing the caller must do; return that verb."""
        assert data["status"] == 200, data
        for verb in data["verbs"]:
            if verb["verb"] in ("say", "play"):
                self.heard.append(verb["key"])
            elif verb["verb"] == "gather":
                self.heard += [c["key"] for c in verb["children"]]
                return verb
            elif verb["verb"] in ("record", "redirect", "dial", "hangup", "reject"):
                return verb
        return {"verb": "hangup"}

    def step(self, **data):
        if self.direction:
            data.setdefault("direction", self.direction)
        response = self.client.post("/console/simulator/call/step",
                                    json={"call_sid": self.sid, "phone": self.phone, **data})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def press(self, verb, digits):
        assert verb["verb"] == "gather", verb
        return self.play(self.step(kind="gather", url=verb["action"], digits=digits))

    def record(self, verb):
        assert verb["verb"] == "record", verb
        data = self.step(kind="record", url=verb["action"], digits="#",
                         status_callback=verb["statusCallback"])
        return self.play(data)

    def hang_up(self):
        return self.step(kind="hangup", duration=42)

    def past_consent(self, verb):
        """A first call asks her consent (1: yes) and how she is told (2: SMS, as before);
        answer both when asked and return the verb after them (the main menu)."""
        if self.heard[-1] == "consent_ask":
            verb = self.press(verb, "1")
            assert self.heard[-1] == "channel_offer_ask"
            verb = self.press(verb, "2")
        return verb


def test_call_the_menu_and_report_a_problem(admin, demo):
    phone = Phone(admin)
    verb = phone.call()
    assert phone.heard[0] == "welcome"
    verb = phone.past_consent(verb)
    assert phone.heard[-1] == "main_menu"
    verb = phone.press(verb, "2")
    assert "report_menu" in phone.heard and phone.heard[-1] == "report_more"
    verb = phone.press(verb, "1")
    assert verb["verb"] == "record" and "record_instructions" in phone.heard
    verb = phone.record(verb)
    assert "case_created" in phone.heard
    phone.hang_up()

    call = demo.scalar(select(Call).where(Call.external_id == phone.sid))
    assert call.phone == STRANGER_E164 and call.status == "completed"
    case = demo.scalar(select(Case).where(Case.person_id == call.person_id))
    assert case.category == 1 and case.channel == "voice"
    digits = [k for k in phone.heard if k and k.startswith("digit_")]
    assert "".join(k[-1] for k in digits) == str(case.number)
    rec = demo.scalar(select(Recording).where(Recording.case_id == case.id))
    assert rec.media_url.endswith(rec.external_id) and "/console/simulator/recordings/" in \
        rec.media_url
    # Staff listen to it through the console, behind the login, at either address.
    with admin.get(f"/console/recordings/{rec.id}") as response:
        assert response.status_code == 200 and response.data.startswith(b"RIFF")
    with admin.get(urlsplit(rec.media_url).path) as response:
        assert response.status_code == 200 and response.data.startswith(b"RIFF")
    assert admin.get("/console/simulator/recordings/RE" + "0" * 32).status_code == 404
    # The case number arrives by SMS too.
    admin.post("/console/simulator/deliver", json={"phone": STRANGER})
    inbox = admin.get(f"/console/simulator/inbox?phone={STRANGER}").get_json()
    assert any(str(case.number) in m["body"] for m in inbox["messages"])


def test_calls_are_signed_when_a_twilio_token_is_set(console, demo):
    rt = console.extensions["hotline"]
    rt.settings = rt.settings.replace(twilio_auth_token=AUTH_TOKEN)
    client = sign_in(console.test_client(), "admin")
    verb = Phone(client).call()
    assert verb["verb"] == "gather"
    # Without the simulator's signature the same webhook is refused.
    form = simulator.call_form(rt.settings, "CA" + "1" * 32, STRANGER_E164, status="ringing")
    assert console.test_client().post("/ivr/incoming", data=form).status_code == 403


def test_steps_only_go_to_the_voice_menu(admin, demo):
    phone = Phone(admin)
    phone.call()
    for url in ("/console/people", "https://evil.example/ivr/menu", "/ivr/../console/audit",
                "javascript:alert(1)"):
        response = admin.post("/console/simulator/call/step", json={
            "call_sid": phone.sid, "phone": STRANGER, "kind": "redirect", "url": url})
        assert response.status_code == 400, url
    response = admin.post("/console/simulator/call/step", json={
        "call_sid": "nope", "phone": STRANGER, "kind": "redirect", "url": "/ivr/menu"})
    assert response.status_code == 400


def test_twiml_verbs_for_the_page(settings):
    twiml = (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        f'<Play>{settings.public_url}/ivr/audio/welcome-0123456789ab.mp3</Play>'
        '<Say language="vi-VN">Cảm ơn chị đã gọi. Chúc chị bình an.</Say><Pause length="2"/>'
        '<Gather action="/ivr/menu?node=main&amp;n=1" numDigits="1" finishOnKey="" timeout="6">'
        '<Say>hello</Say></Gather>'
        '<Record action="recorded?n=2" maxLength="180" finishOnKey="#" '
        f'recordingStatusCallback="{settings.public_url}/ivr/recording"/>'
        '<Dial action="/ivr/dialed" timeout="25"><Number>+84901000001</Number></Dial>'
        '<Redirect method="POST">/ivr/menu?node=main&amp;n=1</Redirect>'
        '<Reject reason="busy"/><Hangup/></Response>'
    )
    texts = {"welcome": "Xin chào", "goodbye": "Cảm ơn chị đã gọi. Chúc chị bình an."}
    verbs = simulator.parse_twiml(twiml, settings, "/ivr/incoming", texts)
    assert [v["verb"] for v in verbs] == ["play", "say", "pause", "gather", "record", "dial",
                                          "redirect", "reject", "hangup"]
    play, say, pause, gather, record, dial, redirect, reject, _ = verbs
    assert play == {"verb": "play", "url": "/ivr/audio/welcome-0123456789ab.mp3",
                    "key": "welcome", "text": "Xin chào"}
    assert say["key"] == "goodbye" and pause["length"] == 2
    assert gather["action"] == "/ivr/menu?node=main&n=1" and gather["numDigits"] == 1
    assert gather["finishOnKey"] == "" and gather["timeout"] == 6
    assert gather["children"][0] == {"verb": "say", "key": None, "text": "hello"}
    assert record["action"] == "/ivr/recorded?n=2" and record["statusCallback"] == "/ivr/recording"
    assert dial["numbers"] == ["+84901000001"] and dial["action"] == "/ivr/dialed"
    assert redirect["url"] == "/ivr/menu?node=main&n=1" and reject["reason"] == "busy"


def test_simulated_recording_is_a_real_sound_file(settings):
    sid, url, seconds = simulator.save_recording(settings, None, None, None)
    assert sid.startswith("RE") and url.endswith(sid) and seconds >= 1
    from console.media import simulator_file

    path = simulator_file(settings, sid)
    assert path.read_bytes().startswith(b"RIFF") and path.stat().st_size > 8000
    assert simulator_file(settings, "../../etc/passwd") is None
