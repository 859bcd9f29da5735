"""Ring once ("nháy máy") from the phone simulator and be called back: the missed-call
webhook as Twilio posts it, the callback the scheduler places through the simulator voice
gateway ringing in the page, answered (the menu as usual) or declined (the retry ladder)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hotline import clock
from hotline.models import AuditLog, Call, CallbackRequest
from scheduler import jobs
from tests.conftest import AUTH_TOKEN
from tests.console.conftest import NOW, sign_in
from tests.console.test_console_simulator import STRANGER, STRANGER_E164, Phone


@pytest.fixture
def admin(as_user):
    return as_user("admin")


@pytest.fixture
def rt(console):
    return console.extensions["hotline"]


def _ring_once(client, phone=STRANGER) -> dict:
    response = client.post("/console/simulator/missed", json={"phone": phone})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _ringing(client, phone=STRANGER) -> list[dict]:
    response = client.get("/console/simulator/ringing", query_string={"phone": phone})
    assert response.status_code == 200
    return response.get_json()["calls"]


def _callback(db) -> CallbackRequest:
    db.expire_all()
    return db.scalar(select(CallbackRequest))


def _calls(db, sid: str) -> list[Call]:
    db.expire_all()
    return list(db.scalars(select(Call).where(Call.external_id == sid)))


def test_the_page_offers_ring_once(admin):
    page = admin.get("/console/simulator").get_data(as_text=True)
    assert 'id="sim-ring-once"' in page and "Nháy máy" in page
    assert "Tổng đài đang gọi lại" in page and 'id="sim-incoming" hidden' in page


def test_ring_once_then_answer_the_callback_and_use_the_menu(admin, demo, rt):
    data = _ring_once(admin)
    assert data["status"] == 200 and data["url"] == "/ivr/missed"
    assert data["verbs"] == [{"verb": "reject", "reason": "busy"}]
    assert data["callback"]["status"] == "queued" and data["callback"]["due"] == "10:00"
    [missed] = _calls(demo, data["call_sid"])
    assert (missed.phone, missed.outcome, missed.direction) == (STRANGER_E164, "missed", "in")
    # Rings again before the line calls back: still one callback.
    _ring_once(admin, "0987 654 321")
    assert demo.scalar(select(func.count(CallbackRequest.id))) == 1
    assert _ringing(admin) == []

    report = jobs.place_callbacks(rt, NOW)  # the scheduler's job, through the simulator gateway
    assert report.placed == 1
    [ringing] = _ringing(admin)
    callback = _callback(demo)
    assert ringing["callback_id"] == callback.id and ringing["reason"] == "missed_call"
    assert ringing["call_sid"].startswith("CA-sim-")
    assert _ringing(admin, "0912000001") == []  # another phone hears nothing
    # The placed call is recorded the way the voice webhooks will find it.
    [placed] = _calls(demo, ringing["call_sid"])
    assert (placed.gateway, placed.direction, placed.phone) == ("twilio", "out", STRANGER_E164)
    assert callback.call_id == placed.id and callback.status == "calling"

    phone = Phone(admin, direction="outbound")
    response = admin.post("/console/simulator/callback/answer",
                          json={"phone": STRANGER, "callback_id": ringing["callback_id"]})
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["call_sid"] == ringing["call_sid"] and answer["direction"] == "outbound"
    assert answer["url"] == f"/ivr/incoming?callback={callback.id}"
    phone.sid = answer["call_sid"]
    verb = phone.play(answer)
    assert phone.heard[0] == "welcome"
    verb = phone.past_consent(verb)
    assert phone.heard[-1] == "main_menu"
    assert _ringing(admin) == []  # answered: no longer ringing
    verb = phone.press(verb, "2")
    assert "report_menu" in phone.heard and phone.heard[-1] == "report_more"
    phone.hang_up()

    callback = _callback(demo)
    assert (callback.status, callback.attempts, callback.call_id) == ("done", 1, placed.id)
    [call] = _calls(demo, ringing["call_sid"])  # one row for the call, webhooks and job alike
    assert (call.status, call.outcome, call.duration_s) == ("completed", "completed", 42)
    assert jobs.place_callbacks(rt, NOW + timedelta(hours=3)).placed == 0
    actions = set(demo.scalars(select(AuditLog.action)))
    assert {"simulator_missed_call", "simulator_answer"} <= actions


def test_declined_callbacks_follow_the_retry_ladder(admin, demo, rt, set_clock):
    _ring_once(admin)
    now = NOW
    sids = []
    for attempt, wait in enumerate((15, 30, 60, None), start=1):
        jobs.place_callbacks(rt, now)
        [ringing] = _ringing(admin)
        sids.append(ringing["call_sid"])
        response = admin.post("/console/simulator/callback/decline",
                              json={"phone": STRANGER, "callback_id": ringing["callback_id"]})
        assert response.status_code == 200
        data = response.get_json()
        assert data["status"] == 204
        assert _ringing(admin) == []
        callback = _callback(demo)
        assert callback.attempts == attempt
        if wait is None:
            assert callback.status == "given_up" and data["callback"] is None
            break
        assert callback.status == "queued" and callback.due_at == now + timedelta(minutes=wait)
        assert data["callback"]["due"] == clock.local(callback.due_at).strftime("%H:%M")
        # Not before it is due.
        assert jobs.place_callbacks(rt, callback.due_at - timedelta(minutes=1)).placed == 0
        now = callback.due_at
        set_clock(now)
    assert len(set(sids)) == 4
    outcomes = [c.outcome for sid in sids for c in _calls(demo, sid)]
    assert outcomes == ["no-answer"] * 4
    assert jobs.place_callbacks(rt, now + timedelta(hours=5)).placed == 0
    assert "simulator_decline" in set(demo.scalars(select(AuditLog.action)))


def test_a_ring_at_night_is_called_back_in_the_morning(admin, demo, rt, set_clock):
    night = NOW.replace(hour=15, minute=30)  # 22:30 in Hanoi, after call hours
    set_clock(night)
    data = _ring_once(admin)
    assert data["verbs"][0]["verb"] == "reject"
    assert data["callback"]["due"] == "08:00"
    assert jobs.place_callbacks(rt, night).placed == 0
    assert _ringing(admin) == []
    morning = NOW.replace(day=11, hour=1)  # 08:00 in Hanoi
    assert jobs.place_callbacks(rt, morning).placed == 1
    assert len(_ringing(admin)) == 1


def test_webhooks_are_signed_when_a_twilio_token_is_set(console, demo, rt):
    rt.settings = rt.settings.replace(twilio_auth_token=AUTH_TOKEN)
    client = sign_in(console.test_client(), "admin")
    data = _ring_once(client)
    assert data["verbs"][0]["verb"] == "reject"
    jobs.place_callbacks(rt, NOW)
    [ringing] = _ringing(client)
    answer = client.post("/console/simulator/callback/answer", json={
        "phone": STRANGER, "callback_id": ringing["callback_id"]}).get_json()
    assert answer["status"] == 200 and answer["verbs"]
    # The same webhook without the simulator's signature is refused.
    from console import simulator

    form = simulator.call_form(rt.settings, "CA" + "2" * 32, STRANGER_E164, status="ringing")
    assert console.test_client().post("/ivr/missed", data=form).status_code == 403


def test_only_with_the_simulator_voice_gateway(console, demo, rt):
    """A simulated ring must never make the line dial a real phone."""
    rt.settings = rt.settings.replace(voice_gateway="twilio")
    client = sign_in(console.test_client(), "admin")
    page = client.get("/console/simulator").get_data(as_text=True)
    assert 'id="sim-ring-once"' not in page and 'id="sim-call"' in page
    assert client.post("/console/simulator/missed", json={"phone": STRANGER}).status_code == 409
    assert _ringing(client) == []
    response = client.post("/console/simulator/callback/answer",
                           json={"phone": STRANGER, "callback_id": 1})
    assert response.status_code == 409
    assert demo.scalar(select(func.count(CallbackRequest.id))) == 0


def test_answer_or_decline_only_what_rings_for_that_phone(admin, demo, rt):
    _ring_once(admin)
    callback = _callback(demo)
    for path in ("answer", "decline"):
        url = f"/console/simulator/callback/{path}"
        # Queued, not yet placed: nothing rings.
        assert admin.post(url, json={"phone": STRANGER,
                                     "callback_id": callback.id}).status_code == 409
        assert admin.post(url, json={"phone": STRANGER, "callback_id": "x"}).status_code == 400
        assert admin.post(url, json={"phone": "hello", "callback_id": 1}).status_code == 400
    jobs.place_callbacks(rt, NOW)
    for path in ("answer", "decline"):
        response = admin.post(f"/console/simulator/callback/{path}",
                              json={"phone": "0912000001", "callback_id": callback.id})
        assert response.status_code == 409
    assert _callback(demo).status == "calling"


def test_peer_educators_and_viewers_cannot_ring(as_user, demo):
    for username in ("hoa", "xem"):
        client = as_user(username)
        assert client.post("/console/simulator/missed",
                           json={"phone": STRANGER}).status_code == 403
        assert client.get(f"/console/simulator/ringing?phone={STRANGER}").status_code == 403
        assert client.post("/console/simulator/callback/answer",
                           json={"phone": STRANGER, "callback_id": 1}).status_code == 403
    assert demo.scalar(select(func.count(Call.id))) == 0


def test_a_voice_notice_rings_in_the_simulator_and_is_read_when_answered(admin, demo, rt):
    from hotline.services import voice_notices
    from tests.factories import create_person

    member = create_person(demo, NOW, phone=STRANGER_E164, registered_at=NOW,
                           notify_channel="voice")
    notice = voice_notices.queue(demo, NOW, member, "case_accepted", ref="case:1",
                                 say={"number": 1007})
    demo.commit()
    assert jobs.place_callbacks(rt, NOW).placed == 1
    [ringing] = _ringing(admin)
    assert (ringing["callback_id"], ringing["reason"]) == (notice.id, "notice")
    answer = admin.post("/console/simulator/callback/answer",
                        json={"phone": STRANGER, "callback_id": notice.id}).get_json()
    assert answer["url"] == f"/ivr/notice?callback={notice.id}"
    phone = Phone(admin)
    phone.sid = answer["call_sid"]
    phone.play(answer)
    assert phone.heard[:2] == ["notice_hello", "notice_case_number"]
    assert phone.heard[-1] == "notice_keys_info"
