"""Meetings with a controlled clock: recurring reminders, moves, cancels, RSVPs."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from hotline.db import session_scope
from hotline.models import (
    Attendance,
    Direction,
    Group,
    Meeting,
    MeetingReminder,
    Message,
    MessageStatus,
    ReminderStatus,
)
from hotline.services import inbound, meetings
from hotline.services.outbox import Outbox
from scheduler import jobs
from tests.conftest import at
from tests.factories import create_group, create_person, handle_sms, join

T0 = at("2026-12-01 09:00")  # a Tuesday
A, B = "+84912000101", "+84912000102"


@pytest.fixture
def group(sessions):
    with session_scope(sessions) as s:
        group = create_group(s, T0, "CD01")
        for phone in (A, B):
            join(s, T0, create_person(s, T0, phone=phone, registered_at=T0), group)
        opted_out = create_person(s, T0, phone="+84912000103", registered_at=T0,
                                  opted_out_at=T0)
        join(s, T0, opted_out, group)
    return group


def texts(rt, phone=A):
    with rt.sessions() as s:
        return [m.body for m in s.scalars(
            select(Message).where(Message.direction == Direction.OUT, Message.phone == phone,
                                  Message.status != MessageStatus.CANCELLED)
            .order_by(Message.id))]


def sms(rt, now, phone, body):
    with session_scope(rt.sessions) as s:
        inbound.store(s, now, gateway="simulator", external_id=None, sender=phone, body=body)
    handle_sms(rt, now)


def new_meeting(rt, when, place="Nha van hoa"):
    with session_scope(rt.sessions) as s:
        group = s.scalar(select(Group))
        return meetings.create(s, T0, group, when, place=place).id


def tick(rt, now):
    """Every meeting job and the drain, twice, as a doubled scheduler would."""
    for _ in range(2):
        jobs.plan_meetings(rt, now)
        jobs.send_meeting_reminders(rt, now)
        jobs.drain_outbox(rt, now)


def test_recurring_series_plans_second_sundays_and_reminds_each_once(rt, group):
    with session_scope(rt.sessions) as s:
        g = s.scalar(select(Group))
        meetings.create_series(s, T0, g, "monthly:2:6", time(15), place="Nha van hoa")
    with rt.sessions() as s:
        starts = [m.starts_at for m in s.scalars(select(Meeting).order_by(Meeting.starts_at))]
    assert starts[:2] == [at("2026-12-13 15:00"), at("2027-01-10 15:00")]
    # Walk the clock through December hour by hour.
    now = T0
    while now < at("2026-12-14 00:00"):
        tick(rt, now)
        now += timedelta(hours=1)
    reminders = [b for b in texts(rt) if "Nhac hop" in b]
    assert len(reminders) == 2 and all("15:00 CN 13/12" in b for b in reminders)
    assert len([b for b in texts(rt, B) if "Nhac hop" in b]) == 2
    assert texts(rt, "+84912000103") == []  # opted out


def test_moving_after_the_first_reminder_cancels_the_second_and_sends_new_ones(rt, group):
    mid = new_meeting(rt, at("2026-12-05 15:00"))
    tick(rt, at("2026-12-04 15:00"))  # the day-before reminder
    assert len(texts(rt)) == 1
    with session_scope(rt.sessions) as s:
        meetings.move(s, at("2026-12-04 18:00"), Outbox(s), s.get(Meeting, mid),
                      at("2026-12-06 16:00"), place="Cho Long Bien")
    assert "doi sang 16:00 CN 06/12 tai Cho Long Bien" in texts(rt)[-1]
    now = at("2026-12-04 18:00")
    while now <= at("2026-12-06 17:00"):
        tick(rt, now)
        now += timedelta(minutes=30)
    bodies = texts(rt)
    assert len(bodies) == 4  # first reminder, move notice, two new reminders
    assert all("06/12" in b for b in bodies[1:])
    with rt.sessions() as s:
        old = s.scalars(select(MeetingReminder).where(MeetingReminder.version == 1)).all()
    assert {r.status for r in old} == {ReminderStatus.SENT, ReminderStatus.CANCELLED}


def test_cancel_sends_one_notice_and_no_more_reminders(rt, group):
    mid = new_meeting(rt, at("2026-12-05 15:00"))
    for _ in range(2):
        with session_scope(rt.sessions) as s:
            meetings.cancel(s, T0, Outbox(s), s.get(Meeting, mid))
    tick(rt, at("2026-12-04 15:00"))
    tick(rt, at("2026-12-05 13:00"))
    assert len(texts(rt)) == 1 and "da huy" in texts(rt)[0]


def test_a_reminder_whose_moment_passed_is_not_sent_late(rt, group):
    new_meeting(rt, at("2026-12-05 15:00"))
    # The scheduler was down from the day before until after the 2-hour moment.
    tick(rt, at("2026-12-05 14:00"))
    assert texts(rt) == []
    with rt.sessions() as s:
        assert {r.status for r in s.scalars(select(MeetingReminder))} == {ReminderStatus.SKIPPED}


def test_a_queued_reminder_expires_when_the_meeting_starts(rt, group):
    new_meeting(rt, at("2026-12-05 08:00"))
    # The two-hour moment falls in quiet hours (06:00) and waits until 07:00.
    tick(rt, at("2026-12-05 06:00"))
    with rt.sessions() as s:
        msg = s.scalars(select(Message).where(Message.phone == A).order_by(Message.id)).all()[-1]
    assert msg.due_at == at("2026-12-05 07:00") and msg.expires_at == at("2026-12-05 08:00")
    jobs.drain_outbox(rt, at("2026-12-05 08:05"))  # drain ran only after the start
    with rt.sessions() as s:
        msg = s.get(Message, msg.id)
    assert (msg.status, msg.error_message) == (MessageStatus.CANCELLED, "expired")


def test_rsvp_lands_on_the_meeting_the_member_was_asked_about(rt, group):
    first = new_meeting(rt, at("2026-12-05 15:00"))
    second = new_meeting(rt, at("2026-12-06 15:00"))
    tick(rt, at("2026-12-04 15:00"))  # reminder for the first only
    sms(rt, at("2026-12-04 15:10"), A, "co a")
    tick(rt, at("2026-12-05 15:00"))  # reminder for the second
    sms(rt, at("2026-12-05 15:10"), A, "khong")
    sms(rt, at("2026-12-05 15:11"), B, "có")
    with rt.sessions() as s:
        rows = {(r.meeting_id, r.rsvp) for r in s.scalars(select(Attendance))}
    assert rows == {(first, "yes"), (second, "no"), (second, "yes")}


def test_attendance_is_recorded(rt, group, sessions):
    mid = new_meeting(rt, at("2026-12-05 15:00"))
    with session_scope(sessions) as s:
        person = s.scalar(select(meetings.Person).where(meetings.Person.phone == A))
        meetings.record_attendance(s, at("2026-12-05 17:00"), s.get(Meeting, mid), person, True)
        meetings.record_attendance(s, at("2026-12-05 17:01"), s.get(Meeting, mid), person, True)
    with sessions() as s:
        assert [(r.attended, r.meeting_id) for r in s.scalars(select(Attendance))] == [(True, mid)]


def test_occurrences_rules():
    series = meetings.MeetingSeries(rule="monthly:-1:4", starts_on=date(2026, 1, 1), until=None)
    assert meetings.occurrences(series, date(2026, 1, 1), date(2026, 3, 31)) == [
        date(2026, 1, 30), date(2026, 2, 27), date(2026, 3, 27)]
    weekly = meetings.MeetingSeries(rule="weekly:0", starts_on=date(2026, 12, 1),
                                    until=date(2026, 12, 20))
    assert meetings.occurrences(weekly, date(2026, 12, 1), date(2027, 1, 31)) == [
        date(2026, 12, 7), date(2026, 12, 14)]


def test_peer_educator_takes_attendance_by_sms(rt, group, sessions):
    from hotline.models import GroupRole, Role

    with session_scope(sessions) as s:
        g = s.scalar(select(Group))
        pe = create_person(s, T0, phone="+84901000001", role=Role.PEER_EDUCATOR, name="Hoa")
        join(s, T0, pe, g, GroupRole.PEER_EDUCATOR)
    mid = new_meeting(rt, at("2026-12-05 15:00"))
    sms(rt, at("2026-12-05 17:00"), "+84901000001", "DD")
    roll = texts(rt, "+84901000001")[-1]
    assert roll.startswith("STONES: Diem danh hop CD01 05/12: 1 ?, 2 ?, 3 ?, 4 Hoa")
    sms(rt, at("2026-12-05 17:05"), "+84901000001", "DD 1 2 4")
    assert "Da ghi 3 nguoi" in texts(rt, "+84901000001")[-1]
    with sessions() as s:
        rows = s.scalars(select(Attendance).where(Attendance.meeting_id == mid)).all()
        assert sorted(r.attended for r in rows) == [False, True, True, True]
        assert s.get(Meeting, mid).status == "held"
    # A member cannot take attendance.
    sms(rt, at("2026-12-05 17:06"), A, "DD 1")
    assert "Khong co buoi hop" in texts(rt, A)[-1]


def test_stopping_a_weekly_series_sends_one_notice_not_one_per_meeting(rt, group):
    with session_scope(rt.sessions) as s:
        g = s.scalar(select(Group))
        series = meetings.create_series(s, T0, g, "weekly:6", time(15))
        assert len(s.scalars(select(Meeting)).all()) >= 8
        cancelled = meetings.stop_series(s, T0, Outbox(s), series)
        assert len(cancelled) >= 8
    assert len(texts(rt)) == 1 and "tam dung" in texts(rt)[0]
    with rt.sessions() as s:
        assert {m.status for m in s.scalars(select(Meeting))} == {"cancelled"}
    tick(rt, at("2026-12-05 15:00"))  # the planner adds nothing, no reminder goes
    assert len(texts(rt)) == 1


def test_the_attendance_list_names_people_as_they_like_to_be_called(rt, group, sessions):
    """Two members both named "... Lan": the coordinator set one's preferred name, so the
    peer educator's DD list tells them apart."""
    from hotline.models import GroupRole, Role

    with session_scope(sessions) as s:
        g = s.scalar(select(Group))
        pe = create_person(s, T0, phone="+84901000001", role=Role.PEER_EDUCATOR, name="Hoa")
        join(s, T0, pe, g, GroupRole.PEER_EDUCATOR)
        join(s, T0, create_person(s, T0, phone="+84901000011", name="Nguyễn Thị Lan"), g)
        join(s, T0, create_person(s, T0, phone="+84901000012", name="Trần Thị Lan",
                                  preferred_name="Lan béo"), g)
    new_meeting(rt, at("2026-12-05 15:00"))
    sms(rt, at("2026-12-05 17:00"), "+84901000001", "DD")
    assert texts(rt, "+84901000001")[-1].startswith(
        "STONES: Diem danh hop CD01 05/12: 1 ?, 2 ?, 3 ?, 4 Hoa, 5 Lan, 6 Lan beo")
