"""Whole case lives with a controlled clock: routing, alerts, the ladder, follow-up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from hotline.db import session_scope
from hotline.models import (
    CallbackRequest,
    Case,
    CaseStatus,
    Direction,
    GroupRole,
    Message,
    Provider,
    Role,
)
from hotline.services import inbound
from hotline.services.cases import ACK_DEADLINE, FOLLOWUP_AFTER, FOLLOWUP_WAIT
from scheduler import jobs
from tests.conftest import at
from tests.factories import create_group, create_person, handle_sms, join

T0 = at("2026-12-01 09:00")
MEMBER, PE1, PE2, PE3, COORD = ("+84912345678", "+84901000001", "+84901000002",
                                "+84901000003", "+84901000009")


@pytest.fixture
def world(sessions):
    """Group CD01 with two peer educators (PE1 trained for violence), a third on duty
    elsewhere, a coordinator, a member in CD01, a provider."""
    with session_scope(sessions) as s:
        group = create_group(s, T0, "CD01", ward_current="Hồng Hà")
        far = create_group(s, T0, "XX01", ward_current="Khác")
        pe1 = create_person(s, T0, phone=PE1, role=Role.PEER_EDUCATOR, duty_order=1,
                            trained_violence=True)
        pe2 = create_person(s, T0, phone=PE2, role=Role.PEER_EDUCATOR, duty_order=2)
        pe3 = create_person(s, T0, phone=PE3, role=Role.PEER_EDUCATOR, duty_order=3,
                            on_duty=True)
        create_person(s, T0, phone=COORD, role=Role.COORDINATOR)
        for pe in (pe1, pe2):
            join(s, T0, pe, group, GroupRole.PEER_EDUCATOR)
        join(s, T0, pe3, far, GroupRole.PEER_EDUCATOR)
        member = create_person(s, T0, phone=MEMBER, ward_current="Hồng Hà",
                               registered_at=T0)
        join(s, T0, member, group)
        s.add(Provider(code="LUAT", name="Tro giup phap ly", phone="18001233"))


def sms(rt, now, phone, body):
    with session_scope(rt.sessions) as s:
        inbound.store(s, now, gateway="simulator", external_id=None, sender=phone, body=body)
    handle_sms(rt, now)


def sent_to(rt, phone):
    with rt.sessions() as s:
        return [m.body for m in s.scalars(
            select(Message).where(Message.direction == Direction.OUT, Message.phone == phone)
            .order_by(Message.id))]


def the_case(rt) -> Case:
    """The newest case, with its member and assignee loaded (usable after the session)."""
    with rt.sessions() as s:
        return s.scalars(select(Case).options(joinedload(Case.person), joinedload(Case.assignee))
                         .order_by(Case.id.desc())).first()


def resolved_by_peer(rt, complaint: str) -> Case:
    """She texts ``complaint`` at T0; PE1 takes the case (NHAN) and resolves it (XONG)."""
    sms(rt, T0, MEMBER, complaint)
    case = the_case(rt)
    sms(rt, T0, PE1, f"NHAN {case.number}")
    sms(rt, T0, PE1, f"XONG {case.number}")
    return case


def run_all_jobs_twice(rt, now):
    for job in (jobs.escalate_cases, jobs.follow_up_cases):
        job(rt, now)
        job(rt, now)


def test_a_whole_case_life_by_sms(rt, world):
    sms(rt, T0, MEMBER, "KN 1 bị thu hàng")
    case = the_case(rt)
    assert case.assignee.phone == PE1
    assert f"NHAN {case.number}" in sent_to(rt, PE1)[-1]

    # Nobody answers for a day: the next peer educator of the group, then the ward, then
    # the one on duty, then the coordinator.
    t = T0 + ACK_DEADLINE
    run_all_jobs_twice(rt, t)
    assert the_case(rt).assignee.phone == PE2 and len(sent_to(rt, PE2)) == 1
    t += ACK_DEADLINE
    run_all_jobs_twice(rt, t)
    assert the_case(rt).assignee.phone == PE3
    t += ACK_DEADLINE
    run_all_jobs_twice(rt, t)
    assert the_case(rt).assignee.phone == COORD
    # Each was alerted once, and told once when it went on to the next.
    for pe in (PE1, PE2, PE3):
        alert, moved = sent_to(rt, pe)
        assert "NHAN" in alert and "da chuyen cho nguoi khac" in moved
    # The member heard, once, that nobody had it yet, with the number to call.
    waiting = [b for b in sent_to(rt, MEMBER) if "chua co nguoi nhan" in b]
    assert len(waiting) == 1 and rt.settings.hotline_number in waiting[0]

    # The coordinator hands it back to PE1, who accepts, refers and resolves it by SMS.
    sms(rt, t, PE1, f"NHAN {case.number}")
    case = the_case(rt)
    assert case.status == CaseStatus.ACKNOWLEDGED and case.assignee.phone == PE1
    sms(rt, t, PE1, f"CHUYEN {case.number} LUAT")
    assert "18001233" in sent_to(rt, MEMBER)[-1]
    sms(rt, t, PE1, f"XONG {case.number}")
    assert the_case(rt).status == CaseStatus.RESOLVED

    # Follow-up: "2" reopens and alerts again.
    t += FOLLOWUP_AFTER
    run_all_jobs_twice(rt, t)
    asks = [b for b in sent_to(rt, MEMBER) if "da duoc giai quyet chua" in b]
    assert len(asks) == 1
    sms(rt, t, MEMBER, "2")
    case = the_case(rt)
    assert case.status == CaseStatus.NEW and case.reopened_count == 1
    assert "mo lai" in sent_to(rt, PE1)[-1]

    # Second resolution, follow-up "1" closes it for good.
    sms(rt, t, PE1, f"NHAN {case.number}")
    sms(rt, t, PE1, f"XONG {case.number}")
    t += FOLLOWUP_AFTER
    run_all_jobs_twice(rt, t)
    sms(rt, t, MEMBER, "1")
    case = the_case(rt)
    assert (case.status, case.followup_answer) == (CaseStatus.CLOSED, "solved")
    asks = [b for b in sent_to(rt, MEMBER) if "da duoc giai quyet chua" in b]
    assert len(asks) == 2


def test_unanswered_follow_up_closes_quietly(rt, world):
    resolved_by_peer(rt, "KN bị nợ tiền công")
    t = T0 + FOLLOWUP_AFTER
    run_all_jobs_twice(rt, t)
    run_all_jobs_twice(rt, t + FOLLOWUP_WAIT)
    case = the_case(rt)
    assert (case.status, case.followup_answer) == (CaseStatus.CLOSED, "unanswered")
    assert case.person.pending_kind is None


def test_accepted_but_stalled_reminds_then_tells_the_coordinator(rt, world):
    sms(rt, T0, MEMBER, "KN bị thu hàng")
    case = the_case(rt)
    sms(rt, T0, PE1, f"NHAN {case.number}")
    t = T0 + timedelta(days=3)
    run_all_jobs_twice(rt, t)
    assert "chua cap nhat" in sent_to(rt, PE1)[-1]
    assert sent_to(rt, COORD) == []
    run_all_jobs_twice(rt, t + timedelta(days=2))
    assert "chua cap nhat" in sent_to(rt, COORD)[-1]
    # A note is progress: the ladder starts again.
    sms(rt, t + timedelta(days=2), PE1, f"GHI {case.number} da goi")
    assert the_case(rt).escalation_level == 0


def test_violence_goes_only_to_the_trained_and_to_the_coordinator(rt, world):
    sms(rt, T0, MEMBER, "KN 3 chồng em")
    case = the_case(rt)
    assert case.assignee.phone == PE1
    assert len(sent_to(rt, COORD)) == 1
    # Escalation skips PE2, who is not trained, straight to the coordinator.
    run_all_jobs_twice(rt, T0 + ACK_DEADLINE)
    assert the_case(rt).assignee.phone == COORD
    assert sent_to(rt, PE2) == [] and sent_to(rt, PE3) == []
    # An untrained peer educator of the group cannot act on it.
    sms(rt, T0, PE2, f"NHAN {case.number}")
    assert "Khong thuc hien duoc" in sent_to(rt, PE2)[-1]


def test_emergency_alerts_at_once_even_at_night(rt, world):
    from hotline.services import cases
    from hotline.services.outbox import Outbox
    from hotline.services.people import find_by_phone

    night = at("2026-12-01 23:30")
    with session_scope(rt.sessions) as s:
        person = find_by_phone(s, MEMBER)
        cases.open_case(s, night, Outbox.for_settings(s, rt.settings), person=person,
                        channel="voice", emergency=True, category=2)
    with rt.sessions() as s:
        alerts = s.scalars(select(Message).where(Message.direction == Direction.OUT)).all()
    assert {m.phone for m in alerts} == {PE1, COORD}
    assert all(m.due_at == night and m.kind == "urgent" for m in alerts)
    # Nobody accepted in 10 minutes: a call to the next on the emergency ladder (nobody
    # trained is on call here, so the coordinator), never to an untrained peer educator.
    jobs.escalate_cases(rt, night + timedelta(minutes=9))
    with rt.sessions() as s:
        assert s.scalars(select(CallbackRequest)).all() == []
    jobs.escalate_cases(rt, night + timedelta(minutes=10))
    with rt.sessions() as s:
        (call,) = s.scalars(select(CallbackRequest)).all()
    assert (call.phone, call.reason, call.urgent) == (COORD, "emergency", True)
    assert the_case(rt).assignee.phone == PE1


def test_normal_alert_at_night_waits_for_morning(rt, world):
    night = at("2026-12-01 22:00")
    sms(rt, night, MEMBER, "KN bi thu hang")
    with rt.sessions() as s:
        alert = s.scalar(select(Message).where(Message.phone == PE1))
        reply = s.scalar(select(Message).where(Message.phone == MEMBER,
                                               Message.direction == Direction.OUT))
    assert alert.due_at == at("2026-12-02 07:00")
    assert reply.due_at == night  # a direct reply goes at once


def test_timings_are_kept(rt, world):
    from hotline.services.cases import timings

    sms(rt, T0, MEMBER, "KN bi thu hang")
    case = the_case(rt)
    sms(rt, T0 + timedelta(hours=2), PE1, f"NHAN {case.number}")
    sms(rt, T0 + timedelta(hours=3), PE1, f"GHI {case.number} da goi")
    sms(rt, T0 + timedelta(hours=30), PE1, f"XONG {case.number}")
    t = timings(the_case(rt))
    assert t["intake_to_acceptance"] == 2
    assert t["intake_to_first_contact"] == 3
    assert t["intake_to_resolution"] == 30
    assert t["assignment_to_acceptance"] == 2


@pytest.mark.parametrize("job", [jobs.escalate_cases, jobs.follow_up_cases, jobs.drain_outbox])
def test_each_job_twice_at_the_same_now_sends_nothing_twice(rt, world, job):
    sms(rt, T0, MEMBER, "KN bi thu hang")
    case = the_case(rt)
    sms(rt, T0, MEMBER, "KN bi no tien")
    sms(rt, T0, PE1, f"NHAN {case.number}")
    sms(rt, T0, PE1, f"XONG {case.number}")
    t = T0 + max(ACK_DEADLINE, FOLLOWUP_AFTER)
    job(rt, t)
    with rt.sessions() as s:
        before = [(m.id, m.status) for m in s.scalars(select(Message).order_by(Message.id))]
    job(rt, t)
    with rt.sessions() as s:
        after = [(m.id, m.status) for m in s.scalars(select(Message).order_by(Message.id))]
    assert after == before


def test_a_case_life_that_starts_with_a_phone_call(app, rt, world):
    """Intake by voice: the spoken complaint alerts the group's peer educator; nobody
    answers, the ladder moves it on; acceptance and resolution by SMS."""
    from tests.conftest import AUTH_TOKEN
    from tests.ivr.ivr_caller import Caller

    app.extensions["hotline"].settings = rt.settings.replace(twilio_auth_token=AUTH_TOKEN)
    caller = Caller(app.test_client(), phone=MEMBER).call().agree().press("2").press("1")
    caller.speak(recording_sid="RE" + "b" * 32, duration=20)
    case = the_case(rt)
    assert (case.channel, case.category, case.assignee.phone) == ("voice", 1, PE1)
    assert f"NHAN {case.number}" in sent_to(rt, PE1)[-1]
    assert str(case.number) in sent_to(rt, MEMBER)[-1]
    later = case.created_at + ACK_DEADLINE
    run_all_jobs_twice(rt, later)
    assert the_case(rt).assignee.phone == PE2
    sms(rt, later, PE2, f"NHAN {case.number}")
    sms(rt, later, PE2, f"XONG {case.number}")
    assert the_case(rt).status == CaseStatus.RESOLVED
    # The member hears the same state on the phone as by SMS.
    sms(rt, later, MEMBER, f"TT {case.number}")
    assert "da giai quyet" in sent_to(rt, MEMBER)[-1]


def test_every_scheduler_job_twice_at_the_same_now_changes_nothing_more(rt, world, sessions):
    """One world with something due for every job; each job run twice at one ``now``."""
    from datetime import date, time

    from hotline.models import CallbackRequest, Group, MeetingReminder
    from hotline.services import broadcasts, meetings
    from hotline.services.people import find_by_phone
    from scheduler.runner import JOBS

    sms(rt, T0, MEMBER, "KN bi thu hang")  # an unaccepted case
    sms(rt, T0, MEMBER, "KN bi no tien")
    second = the_case(rt)
    sms(rt, T0, PE1, f"NHAN {second.number}")
    sms(rt, T0, PE1, f"XONG {second.number}")  # a resolved case, follow-up due later
    sms(rt, T0, MEMBER, "GOI")  # a callback
    t = T0 + max(ACK_DEADLINE, FOLLOWUP_AFTER)
    with session_scope(sessions) as s:
        group = s.scalar(select(Group).where(Group.code == "CD01"))
        meetings.create(s, T0, group, t + timedelta(hours=2), place="Nha van hoa")
        meetings.create_series(s, T0, group, "weekly:6", time(15))
        broadcasts.create(s, T0, "Thong bao hop", {}, send_at=t)
        person = find_by_phone(s, MEMBER)
        person.bhyt_expires_on = date(2026, 12, 20)

    def snapshot():
        with rt.sessions() as s:
            return (
                [(m.id, m.status, m.due_at)
                 for m in s.scalars(select(Message).order_by(Message.id))],
                [(c.id, c.status, c.assignee_id, c.escalation_level, c.followup_answer)
                 for c in s.scalars(select(Case).order_by(Case.id))],
                [(r.id, r.status) for r in s.scalars(select(MeetingReminder))],
                [(c.id, c.status, c.attempts) for c in s.scalars(select(CallbackRequest))],
            )

    before = snapshot()
    for job in JOBS:
        job.func(rt, t)
        once = snapshot()
        job.func(rt, t)
        assert snapshot() == once, job.name
    assert snapshot() != before  # the jobs had work to do
