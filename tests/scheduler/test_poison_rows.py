"""A poison row in every scheduler job: it is recorded with its reason and skipped, the
job goes on with the next row, and the next run does not trip over it again.

Where real data can poison a job it does (a broadcast stored with ``group_id=abc`` before
segments were checked, a card ending too far ahead for any reminder window); elsewhere the
job's action is made to raise for one row, the way a bug or an unexpected value would.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from hotline.db import session_scope
from hotline.models import (
    Broadcast,
    BroadcastStatus,
    CallbackRequest,
    Case,
    Direction,
    JobFailure,
    MeetingReminder,
    MeetingSeries,
    Message,
    MessageStatus,
    Person,
)
from hotline.services import broadcasts, cases, inbound, job_rows, meetings, outbox, people
from hotline.services.outbox import Outbox
from scheduler import jobs
from tests.conftest import at
from tests.factories import create_group, create_person, handle_sms, join

T0 = at("2026-12-01 10:00")


def failures(rt) -> list[JobFailure]:
    with rt.sessions() as s:
        return list(s.scalars(select(JobFailure).order_by(JobFailure.id)))


def two(rt, make) -> tuple[int, int]:
    """Two rows made by ``make(session, i)``: the first is the poison."""
    with session_scope(rt.sessions) as s:
        rows = [make(s, i) for i in range(2)]
        s.flush()
        return rows[0].id, rows[1].id


def poison(monkeypatch, module, find_name, act_name, model, ids):
    """``module.find_name`` returns the two rows, ``module.act_name`` raises for the first
    and notes the others; returns the list of ids it acted on."""
    acted = []

    def find(session, *args, **kwargs):
        return [session.get(model, i) for i in ids]

    def act(session, *args):
        row = args[-1]
        if row.id == ids[0]:
            raise RuntimeError(f"poison {row.id}")
        acted.append(row.id)
        return []

    monkeypatch.setattr(module, find_name, find)
    monkeypatch.setattr(module, act_name, act)
    return acted


def make_case(s, i):
    person = create_person(s, T0, registered_at=T0)
    return cases.open_case(s, T0, Outbox(s), person=person, channel="sms", summary="x")


def make_series(s, i):
    group = create_group(s, T0, f"S{i}")
    return meetings.create_series(s, T0, group, "monthly:2:6", time(15), place="Nha van hoa")


def make_reminder(s, i):
    group = create_group(s, T0, f"R{i}")
    meeting = meetings.create(s, T0, group, T0 + timedelta(days=3), place="Nha van hoa")
    return s.scalar(select(MeetingReminder).where(MeetingReminder.meeting_id == meeting.id))


@pytest.mark.parametrize(("job", "module", "find", "act", "model", "make"), [
    (jobs.escalate_cases, cases, "due_for_action", "escalate", Case, make_case),
    (jobs.follow_up_cases, cases, "due_followups", "follow_up", Case, make_case),
    (jobs.plan_meetings, meetings, "active_series", "plan_series", MeetingSeries, make_series),
    (jobs.send_meeting_reminders, meetings, "due_reminders", "send_reminder", MeetingReminder,
     make_reminder),
], ids=["escalate_cases", "follow_up_cases", "plan_meetings", "send_meeting_reminders"])
def test_a_row_that_raises_is_recorded_and_the_job_goes_on(
        rt, monkeypatch, job, module, find, act, model, make):
    ids = two(rt, make)
    acted = poison(monkeypatch, module, find, act, model, ids)
    job(rt, T0)
    assert acted == [ids[1]]
    [failure] = failures(rt)
    assert (failure.job, failure.object_id, failure.count) == (job.__name__, str(ids[0]), 1)
    assert failure.reason == f"RuntimeError: poison {ids[0]}"
    # The next run skips the poison and still does the others.
    job(rt, T0 + timedelta(minutes=1))
    assert acted == [ids[1], ids[1]]
    assert [f.count for f in failures(rt)] == [1]


def test_a_broadcast_stored_with_a_bad_group_does_not_hold_up_the_next(rt, sessions):
    with session_scope(sessions) as s:
        group = create_group(s, T0, "CD01")
        for _ in range(3):
            join(s, T0, create_person(s, T0, registered_at=T0), group)
        # Stored as the console stored it before segments were checked.
        s.add(Broadcast(body="Hop nhom", segment={"group_id": "abc"}, created_at=T0,
                        status=BroadcastStatus.SCHEDULED, send_at=T0))
        s.flush()
        good = broadcasts.create(s, T0, "Hop nhom CD01", {"group_id": str(group.id)},
                                 send_at=T0 + timedelta(seconds=1)).id
    assert jobs.queue_broadcasts(rt, T0 + timedelta(seconds=15)) == 3
    assert jobs.queue_broadcasts(rt, T0 + timedelta(seconds=30)) == 0
    with sessions() as s:
        assert s.get(Broadcast, good).status == BroadcastStatus.SENT
        bad = s.scalar(select(Broadcast).where(Broadcast.id != good))
        assert bad.status == BroadcastStatus.SCHEDULED  # untouched, for staff to cancel
    [failure] = failures(rt)
    assert (failure.job, failure.object_type, failure.object_id) == (
        "queue_broadcasts", "broadcast", str(bad.id))
    assert "abc" in failure.reason


def test_a_card_no_reminder_window_fits_does_not_stop_the_others(rt, sessions, monkeypatch):
    today = date(2026, 12, 1)
    with session_scope(sessions) as s:
        far = create_person(s, T0, registered_at=T0, bhyt_expires_on=today + timedelta(days=400))
        near = create_person(s, T0, registered_at=T0, bhyt_expires_on=today + timedelta(days=7))
        ids = (far.id, near.id)
    # As if the due-row query had let the far one through (the bug that makes a poison row).
    monkeypatch.setattr(people, "bhyt_due", lambda session, day: [
        session.get(Person, i) for i in ids])
    assert jobs.remind_bhyt_renewals(rt, T0) == 1
    with sessions() as s:
        phones = set(s.scalars(select(Message.phone).where(Message.direction == Direction.OUT)))
        assert phones == {s.get(Person, ids[1]).phone}
    [failure] = failures(rt)
    assert (failure.job, failure.object_id) == ("remind_bhyt_renewals", str(ids[0]))


def test_a_callback_that_cannot_be_claimed_does_not_stop_the_others(rt, sessions, monkeypatch):
    from hotline.services import calls

    with session_scope(sessions) as s:
        rows = [CallbackRequest(phone=f"+8491200040{i}", reason="missed", due_at=T0,
                                created_at=T0) for i in range(2)]
        s.add_all(rows)
        s.flush()
        ids = [r.id for r in rows]
    claim = calls._claim

    def bad_claim(session, callback_id, *args):
        if callback_id == ids[0]:
            raise ValueError("no such phone")
        return claim(session, callback_id, *args)

    monkeypatch.setattr(calls, "_claim", bad_claim)
    report = jobs.place_callbacks(rt, at("2026-12-01 10:00"))
    assert report.placed == 1
    [failure] = failures(rt)
    assert (failure.job, failure.object_id) == ("place_callbacks", str(ids[0]))
    assert jobs.place_callbacks(rt, at("2026-12-01 10:01")).placed == 0  # skipped, not retried
    assert failures(rt)[0].count == 1


def test_an_inbound_text_whose_handling_raises_goes_to_staff(rt, sessions, monkeypatch):
    from hotline.services import commands

    with session_scope(sessions) as s:
        for phone in ("+84912000501", "+84912000502"):
            inbound.store(s, T0, gateway="simulator", external_id=None, sender=phone, body="HD")
    run = commands.handle

    def bad(session, now, msg, settings):
        if msg.phone == "+84912000501":
            raise KeyError("poison")
        return run(session, now, msg, settings)

    monkeypatch.setattr(commands, "handle", bad)
    assert handle_sms(rt, T0) == 2
    with sessions() as s:
        first, second = s.scalars(select(Message).where(Message.direction == Direction.IN)
                                  .order_by(Message.id))
        assert first.needs_staff and first.handled_at is not None
        replies = s.scalars(select(Message.phone).where(Message.direction == Direction.OUT))
        assert set(replies) == {"+84912000502"}
    assert [(f.job, f.object_id) for f in failures(rt)] == [("handle_inbound", str(first.id))]


def test_a_message_the_gateway_chokes_on_fails_with_its_reason_and_the_next_goes(
        rt, sessions, settings):
    from tests.fakes.gateway import ScriptedGateway

    class Choking(ScriptedGateway):
        def send_sms(self, to, body, **kwargs):
            if to == "+84912000601":
                raise UnicodeError("cannot encode")
            return super().send_sms(to, body, **kwargs)

    with session_scope(sessions) as s:
        box = Outbox(s)
        for phone in ("+84912000601", "+84912000602"):
            box.enqueue(T0, phone, "Xin chao", kind="reply")
    gateway = Choking()
    report = outbox.drain(sessions, T0, gateway, settings)
    assert report.sent == 1
    with sessions() as s:
        bad = s.scalar(select(Message).where(Message.phone == "+84912000601"))
        assert bad.status in (MessageStatus.QUEUED, MessageStatus.FAILED)
        assert "cannot encode" in (bad.error_message or "")
        good = s.scalar(select(Message).where(Message.phone == "+84912000602"))
        assert good.status == MessageStatus.SENT


def test_a_status_lookup_that_raises_does_not_stop_reconciling(rt, sessions, settings):
    from tests.fakes.gateway import ScriptedGateway

    class Looking(ScriptedGateway):
        def fetch_status(self, external_id):
            if external_id == "SM-bad":
                raise AttributeError("provider answered nonsense")
            return "delivered", None

    with session_scope(sessions) as s:
        for sid in ("SM-bad", "SM-good"):
            s.add(Message(direction="out", gateway="simulator", phone="+84912000701",
                          body="x", status=MessageStatus.SENT, external_id=sid,
                          created_at=T0, sent_at=T0, due_at=T0))
    later = T0 + timedelta(hours=1)
    assert outbox.reconcile(sessions, later, Looking()) == 1
    assert outbox.reconcile(sessions, later, Looking()) == 0
    with sessions() as s:
        rows = {m.external_id: m.status for m in s.scalars(select(Message))}
        assert rows == {"SM-bad": MessageStatus.SENT, "SM-good": MessageStatus.DELIVERED}
    [failure] = failures(rt)
    assert failure.job == "reconcile_statuses" and "nonsense" in failure.reason


def test_the_dashboard_shows_what_the_scheduler_gave_up_on(app, rt, sessions, monkeypatch):
    from tests.console.conftest import sign_in

    with session_scope(sessions) as s:
        s.add(Broadcast(body="Hop", segment={"group_id": "abc"}, created_at=T0,
                        status=BroadcastStatus.SCHEDULED, send_at=T0))
    jobs.queue_broadcasts(rt, T0)
    from werkzeug.security import generate_password_hash

    from hotline.models import StaffUser
    with session_scope(sessions) as s:
        s.add(StaffUser(username="dieuphoi", name="Dieu phoi", role="coordinator",
                        password_hash=generate_password_hash("dieuphoi-demo",
                                                             "pbkdf2:sha256:1000"),
                        created_at=T0))
    app.config["WTF_CSRF_ENABLED"] = False
    client = sign_in(app.test_client(), "dieuphoi", "dieuphoi-demo")
    page = client.get("/console/dashboard").get_data(as_text=True)
    assert "queue_broadcasts" in page and "invalid literal" in page
    [failure] = failures(rt)
    assert client.post(f"/console/job-failures/{failure.id}/retry").status_code == 302
    assert failures(rt) == []


@pytest.mark.parametrize(("job", "module", "find", "act", "make", "later"), [
    (jobs.escalate_cases, cases, "due_for_action", "escalate", make_case, timedelta(days=30)),
    (jobs.send_meeting_reminders, meetings, "due_reminders", "send_reminder", make_reminder,
     timedelta(days=30)),
], ids=["escalate_cases", "send_meeting_reminders"])
def test_a_batch_made_only_of_rows_given_up_on_does_not_stall_the_job(
        rt, monkeypatch, job, module, find, act, make, later):
    """The batch limit (2 here, 100-200 in production) applies after the rows given up on
    are left out, so the job still reaches the row behind them."""
    with session_scope(rt.sessions) as s:
        ids = [make(s, i).id for i in range(3)]
    for row_id in ids[:2]:
        job_rows.record_failure(rt.sessions, T0, job.__name__, "case" if module is cases
                                else "meeting_reminder", row_id, RuntimeError("poison"))
    real, acted = getattr(module, find), []
    monkeypatch.setattr(module, find, lambda session, now, skip=(): real(
        session, now, limit=2, skip=skip))
    monkeypatch.setattr(module, act, lambda session, now, box, row: acted.append(row.id))
    assert job(rt, T0 + later) == len(acted)  # a meeting has more reminders than its first
    assert ids[2] in acted and not set(ids[:2]) & set(acted)
