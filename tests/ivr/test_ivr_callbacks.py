"""Missed-call callbacks and call status: rejected, queued, called back inside the window
(through the real twilio client against the local fake Twilio), retried, given up."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from hotline.db import session_scope
from hotline.gateways.base import SendResult
from hotline.models import Call, CallbackRequest, CallStep, Person
from hotline.services import calls
from scheduler import jobs
from scheduler.runner import JOBS
from tests.conftest import (
    PUBLIC_URL,
    TWILIO_FROM,
    TWILIO_SID,
    at,
    calls_through,
    clock_starting_at,
)
from tests.factories import create_person
from tests.ivr.ivr_caller import Caller, fresh_phone, fresh_sid, sign

SID, FROM = TWILIO_SID, TWILIO_FROM
NIGHT = at("2026-12-01 22:30")
MORNING = at("2026-12-02 08:00")


@pytest.fixture
def settings(settings, fake_twilio):
    return calls_through(settings, fake_twilio)


clock_at = clock_starting_at(NIGHT)


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def ring(client, phone, sid=None):
    """Ring the missed-call number once."""
    form = {"CallSid": sid or fresh_sid(), "From": phone, "To": "+842400000001",
            "Direction": "inbound", "CallStatus": "ringing"}
    resp = client.post("/ivr/missed", data=form, headers=sign("/ivr/missed", form))
    assert resp.status_code == 200 and resp.mimetype == "text/xml"
    return ET.fromstring(resp.data), form


def status(client, call_sid, phone, call_status, duration=None):
    form = {"CallSid": call_sid, "From": FROM, "To": phone, "Direction": "outbound-api",
            "CallStatus": call_status}
    if duration is not None:
        form["CallDuration"] = str(duration)
    resp = client.post("/ivr/status", data=form, headers=sign("/ivr/status", form))
    assert resp.status_code == 204


def callback(db) -> CallbackRequest:
    db.expire_all()
    return db.scalar(select(CallbackRequest))


def test_missed_call_is_rejected_free_and_queued_once_however_often_it_rings(client, db,
                                                                            clock_at):
    phone = "+84912345001"
    root, form = ring(client, phone)
    assert [child.tag for child in root] == ["Reject"]
    assert root[0].get("reason") == "busy"
    client.post("/ivr/missed", data=form, headers=sign("/ivr/missed", form))  # a Twilio retry
    ring(client, phone)
    ring(client, "0912345001")  # the same number, keyed the local way
    assert count(db, CallbackRequest) == 1
    assert count(db, Call) == 3
    cb = callback(db)
    assert (cb.phone, cb.reason, cb.status, cb.due_at) == (phone, "missed_call", "queued", NIGHT)
    assert cb.person_id == db.scalar(select(Person.id).where(Person.phone == phone))
    assert set(db.scalars(select(Call.outcome))) == {"missed"}
    assert count(db, CallStep) == 0


def test_withheld_number_is_rejected_but_cannot_be_called_back(client, db, clock_at):
    root, _ = ring(client, "anonymous")
    assert root[0].tag == "Reject"
    assert count(db, CallbackRequest) == 0


def test_called_back_inside_call_hours_answered_and_done(client, db, rt, fake_twilio, clock_at):
    phone = "+84912345002"
    ring(client, phone)
    jobs.place_callbacks(rt, NIGHT + timedelta(minutes=1))
    assert fake_twilio.calls == []
    cb = callback(db)
    assert cb.due_at == MORNING and cb.status == "queued" and cb.attempts == 0

    jobs.place_callbacks(rt, MORNING - timedelta(minutes=1))
    assert fake_twilio.calls == []
    jobs.place_callbacks(rt, MORNING)
    jobs.place_callbacks(rt, MORNING + timedelta(seconds=15))  # runs again: no second call
    assert len(fake_twilio.calls) == 1
    req = fake_twilio.last
    assert req.path == f"/2010-04-01/Accounts/{SID}/Calls.json"
    assert req.form["To"] == phone and req.form["From"] == FROM
    assert req.form["Url"] == f"{PUBLIC_URL}/ivr/incoming?callback={cb.id}"
    assert req.form["StatusCallback"] == f"{PUBLIC_URL}/ivr/status"
    cb = callback(db)
    call = db.get(Call, cb.call_id)
    assert (cb.status, cb.attempts) == ("calling", 1)
    assert (call.external_id, call.direction, call.phone) == (
        fake_twilio.calls[0]["sid"], "out", phone)

    # She answers: the callback goes into the menu, consent first.
    clock_at(MORNING + timedelta(seconds=20))
    caller = Caller(client, phone=phone, sid=call.external_id, outbound=True)
    caller.call(callback_id=cb.id)
    assert caller.heard == ["welcome", "consent_ask"]
    status(client, call.external_id, phone, "in-progress")
    status(client, call.external_id, phone, "completed", duration=95)
    status(client, call.external_id, phone, "completed", duration=95)  # retried
    status(client, call.external_id, phone, "ringing")  # late, out of order
    cb = callback(db)
    db.refresh(call)
    assert (cb.status, cb.done_at) == ("done", MORNING + timedelta(seconds=20))
    assert (call.status, call.outcome, call.duration_s) == ("completed", "completed", 95)
    assert count(db, Call) == 2


def test_no_answer_retries_after_15_30_60_minutes_then_gives_up(client, db, rt, fake_twilio,
                                                                clock_at):
    phone = "+84912345003"
    clock_at(at("2026-12-02 09:00"))
    ring(client, phone)
    now = at("2026-12-02 09:00")
    for attempt, wait in enumerate([15, 30, 60, None], start=1):
        jobs.place_callbacks(rt, now)
        assert len(fake_twilio.calls) == attempt
        clock_at(now + timedelta(seconds=40))
        status(client, fake_twilio.calls[-1]["sid"], phone, "no-answer")
        cb = callback(db)
        assert cb.attempts == attempt
        if wait is None:
            assert cb.status == "given_up" and cb.done_at is not None
            break
        assert cb.status == "queued"
        assert cb.due_at == now + timedelta(seconds=40) + timedelta(minutes=wait)
        jobs.place_callbacks(rt, cb.due_at - timedelta(seconds=1))
        assert len(fake_twilio.calls) == attempt  # not before its time
        now = cb.due_at
    jobs.place_callbacks(rt, now + timedelta(hours=3))
    assert len(fake_twilio.calls) == 4
    outcomes = db.scalars(select(Call.outcome).where(Call.direction == "out")).all()
    assert outcomes == ["no-answer"] * 4


@pytest.mark.parametrize("outcome", ["busy", "failed", "canceled"])
def test_busy_or_failed_calls_are_retried_too(client, db, rt, fake_twilio, clock_at, outcome):
    phone = fresh_phone()
    clock_at(at("2026-12-02 10:00"))
    ring(client, phone)
    jobs.place_callbacks(rt, at("2026-12-02 10:00"))
    status(client, fake_twilio.calls[-1]["sid"], phone, outcome)
    cb = callback(db)
    assert cb.status == "queued" and cb.due_at == at("2026-12-02 10:15")


def test_urgent_callbacks_go_out_at_night(db, rt, fake_twilio):
    with session_scope(rt.sessions) as session:
        calls.queue_callback(session, NIGHT, "+84912345004", None, reason="staff", urgent=True)
    jobs.place_callbacks(rt, NIGHT)
    assert len(fake_twilio.calls) == 1


def test_a_safe_contact_window_is_kept(db, rt, fake_twilio):
    now = at("2026-12-02 09:00")
    with session_scope(rt.sessions) as session:
        person = create_person(session, now, safe_contact_start=time(18),
                               safe_contact_end=time(20))
        calls.queue_callback(session, now, person.phone, person, reason="ivr")
    jobs.place_callbacks(rt, now)
    assert fake_twilio.calls == [] and callback(db).due_at == at("2026-12-02 18:00")
    jobs.place_callbacks(rt, at("2026-12-02 18:00"))
    assert len(fake_twilio.calls) == 1


def test_gateway_errors_count_as_attempts_and_bad_numbers_give_up(db, rt, fake_twilio):
    now = at("2026-12-02 11:00")
    with session_scope(rt.sessions) as session:
        calls.queue_callback(session, now, "+84912345005", None, reason="ivr")
    fake_twilio.fail_next(status=503)
    jobs.place_callbacks(rt, now)
    cb = callback(db)
    assert (cb.status, cb.attempts, cb.call_id) == ("queued", 1, None)
    assert cb.due_at == now + timedelta(minutes=15) and "503" in cb.note
    fake_twilio.fail_next(status=400, code=21211)
    jobs.place_callbacks(rt, cb.due_at)
    cb = callback(db)
    assert (cb.status, cb.attempts) == ("given_up", 2) and "21211" in cb.note


class RacingGateway:
    """Twilio's final status arrives before the job has recorded the call."""

    name = "twilio"

    def __init__(self, client, outcome):
        self.client, self.outcome = client, outcome

    def place_call(self, to, *, url, status_callback=None):
        sid = fresh_sid()
        status(self.client, sid, to, self.outcome)
        return SendResult(external_id=sid, status="queued")


def test_a_final_status_that_overtakes_the_job_still_settles_the_callback(client, db, rt):
    now = at("2026-12-02 12:00")
    with session_scope(rt.sessions) as session:
        calls.queue_callback(session, now, "+84912345006", None, reason="ivr")
    calls.place_due(rt.sessions, now, RacingGateway(client, "no-answer"), rt.settings)
    cb = callback(db)
    assert (cb.status, cb.attempts) == ("queued", 1) and cb.call_id is not None
    calls.place_due(rt.sessions, cb.due_at, RacingGateway(client, "completed"), rt.settings)
    assert callback(db).status == "done"
    assert count(db, Call) == 2


class AnsweringGateway:
    """The member answers and hangs up before the job has recorded the call."""

    name = "twilio"

    def __init__(self, client):
        self.client = client

    def place_call(self, to, *, url, status_callback=None):
        sid = fresh_sid()
        callback_id = int(url.rsplit("=", 1)[1])
        Caller(self.client, phone=to, sid=sid, outbound=True).call(callback_id=callback_id)
        status(self.client, sid, to, "completed", duration=30)
        return SendResult(external_id=sid, status="queued")


def test_a_callback_answered_before_the_job_recorded_it_is_done_once(client, db, rt):
    now = at("2026-12-02 12:30")
    with session_scope(rt.sessions) as session:
        calls.queue_callback(session, now, "+84912345008", None, reason="ivr")
    calls.place_due(rt.sessions, now, AnsweringGateway(client), rt.settings)
    cb = callback(db)
    assert (cb.status, cb.attempts) == ("done", 1)
    call = db.get(Call, cb.call_id)
    assert (call.outcome, call.duration_s, call.direction) == ("completed", 30, "out")
    assert count(db, Call) == 1


def test_a_callback_whose_call_never_reported_is_looked_at_again(db, rt, fake_twilio):
    now = at("2026-12-02 13:00")
    with session_scope(rt.sessions) as session:
        calls.queue_callback(session, now, "+84912345007", None, reason="ivr")
    jobs.place_callbacks(rt, now)
    jobs.place_callbacks(rt, now + timedelta(hours=1))
    assert callback(db).status == "calling"
    later = now + calls.CLAIM_TIMEOUT
    jobs.place_callbacks(rt, later)  # no final status ever came: counted as failed
    cb = callback(db)
    assert (cb.status, cb.attempts) == ("queued", 1)
    assert cb.due_at == later + timedelta(minutes=15) and "no final status" in cb.note


def test_erased_people_are_not_called(db, rt, fake_twilio):
    now = at("2026-12-02 14:00")
    with session_scope(rt.sessions) as session:
        person = create_person(session, now)
        calls.queue_callback(session, now, person.phone, person, reason="ivr")
        person.erased_at = now
    jobs.place_callbacks(rt, now)
    assert fake_twilio.calls == [] and callback(db).status == "given_up"


def test_inbound_call_status_keeps_duration_and_outcome(client, db, clock_at):
    caller = Caller(client).call()
    caller.hang_up(duration=61)
    caller.hang_up(duration=61)
    call = db.scalar(select(Call))
    assert (call.status, call.outcome, call.duration_s, call.ended_at) == (
        "completed", "completed", 61, NIGHT)


def test_place_callbacks_is_on_the_schedule():
    assert any(job.func is jobs.place_callbacks for job in JOBS)
