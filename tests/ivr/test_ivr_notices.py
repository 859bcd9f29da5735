"""Voice notices over HTTP: a member told by call answers each kind by key.

The scheduler's jobs run on a controlled clock, calls go out through the real twilio client
against the local fake Twilio, and a scripted caller follows the TwiML that comes back.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.db import session_scope
from hotline.models import (
    Attendance,
    AuditLog,
    Call,
    CallbackRequest,
    CallbackStatus,
    Case,
    CaseStatus,
    Consent,
    MessageStatus,
    NotifyChannel,
    NotSent,
    Person,
    Provider,
    Role,
)
from hotline.services import cases, meetings
from hotline.services.outbox import Outbox
from ivr.menu import digit_prompt_keys
from scheduler import jobs
from tests.conftest import PUBLIC_URL, at
from tests.emergency_support import (  # noqa: F401 (fixtures)
    clock_at,
    fake,
    out_to,
    placed,
    settings,
)
from tests.factories import create_group, create_person, join
from tests.ivr.ivr_caller import Caller, sign

T0 = at("2026-12-03 09:00")  # a Thursday, inside the notice hours (08:00-17:00)
MEMBER, COORD = "+84912345001", "+84901000099"


@pytest.fixture
def member(db):
    coord = create_person(db, T0, phone=COORD, role=Role.COORDINATOR)
    person = create_person(db, T0, phone=MEMBER, registered_at=T0, notify_channel="voice")
    db.add(Provider(code="LUAT", name="Trung tâm trợ giúp pháp lý", phone="1800 1233"))
    db.commit()
    return person.id, coord.id


def the_case(db) -> Case:
    db.expire_all()
    return db.scalars(select(Case)).one()


def act(rt, now, verb, *args):
    """A coordinator works the case (``verb`` of ``hotline.services.cases``)."""
    with session_scope(rt.sessions) as s:
        case = s.scalars(select(Case)).one()
        coord = s.scalars(select(Person).where(Person.phone == COORD)).one()
        verb(s, now, Outbox.for_settings(s, rt.settings), case, cases.Actor(person=coord),
             *args)


def place(rt, now, clock_at):
    clock_at(now)
    return jobs.place_callbacks(rt, now)


def pick_up(client, fake, phone=MEMBER, answered_by="human") -> Caller:
    """She answers the call placed last: Twilio's first webhook, with AMD's verdict."""
    last = placed(fake)[-1]
    assert last["To"] == phone and last["MachineDetection"] == "DetectMessageEnd"
    assert last["Url"].startswith(f"{PUBLIC_URL}/ivr/notice?callback=")
    caller = Caller(client, phone=phone, sid=last["sid"], outbound=True)
    caller.post(last["Url"].removeprefix(PUBLIC_URL), caller.form(AnsweredBy=answered_by))
    return caller


def ring_out(client, fake, status="no-answer"):
    """The call placed last ends unanswered (Twilio's final status callback)."""
    last = placed(fake)[-1]
    form = {"CallSid": last["sid"], "AccountSid": "AC" + "0" * 32, "CallStatus": status,
            "From": last["From"], "To": last["To"], "Direction": "outbound-api",
            "CallDuration": "0"}
    resp = client.post("/ivr/status", data=form, headers=sign("/ivr/status", form))
    assert resp.status_code == 204


def notices(db) -> list[CallbackRequest]:
    db.expire_all()
    return db.scalars(select(CallbackRequest).where(CallbackRequest.reason == "notice")
                      .order_by(CallbackRequest.id)).all()


def sent_to(db, phone):
    return [m for m in out_to(db, phone)
            if m.status in (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.QUEUED)]


def open_voice_case(rt, member_id, now=T0, category=12, **extra):
    """She opens a case by phone (``category``, 12 ``other`` unless said)."""
    with session_scope(rt.sessions) as s:
        cases.open_case(s, now, Outbox.for_settings(s, rt.settings),
                        person=s.get(Person, member_id), channel="voice", category=category,
                        **extra)


def open_accept_resolve(db, rt, member_id):
    open_voice_case(rt, member_id, member_chose=True)
    act(rt, T0, cases.accept)
    act(rt, T0, cases.resolve)


def test_the_follow_up_answered_2_reopens_the_case_as_the_sms_2_does(
        client, db, rt, fake, member, clock_at):
    open_accept_resolve(db, rt, member[0])
    jobs.drain_outbox(rt, T0)
    for minutes in (0, 5):  # accepted, resolved: one call at a time, heard, hung up
        place(rt, T0 + timedelta(minutes=minutes), clock_at)
        pick_up(client, fake).hang_up()
    assert len(placed(fake)) == 2
    asked = T0 + cases.FOLLOWUP_AFTER
    asked = asked.replace(hour=2)  # 09:00 Hanoi
    jobs.follow_up_cases(rt, asked)
    place(rt, asked, clock_at)
    her = pick_up(client, fake)
    number = the_case(db).number
    assert her.heard == ["notice_hello", "notice_case_number", *digit_prompt_keys(number),
                         "notice_followup", "notice_keys_followup"]
    her.press("2")
    assert her.heard == ["notice_followup_reopened", "notice_goodbye"] and her.kind == "hangup"
    her.retry()  # Twilio retries the keypress: the same answer, reopened once
    assert her.heard == ["notice_followup_reopened", "notice_goodbye"]
    case = the_case(db)
    assert (case.status, case.reopened_count, case.followup_answer) == (
        CaseStatus.NEW, 1, "not_solved")
    her.hang_up()
    jobs.drain_outbox(rt, asked)
    assert sent_to(db, MEMBER) == []  # every notice went by voice


def test_a_referral_reads_the_provider_and_its_number_slowly_twice_and_1_repeats(
        client, db, rt, fake, member, clock_at):
    open_voice_case(rt, member[0], category=10)
    provider = db.scalars(select(Provider)).one()
    act(rt, T0, cases.refer, provider)
    place(rt, T0, clock_at)
    her = pick_up(client, fake)
    phone = ["digit_1", "digit_8", "digit_0", "digit_0", "digit_1", "digit_2", "digit_3",
             "digit_3"]
    assert her.heard[-(len(phone) * 2 + 2):] == [*phone, "notice_phone_again", *phone,
                                                 "notice_keys_info"]
    assert f"said:{provider.name}" in her.heard
    gather = her.waiting
    assert len(gather.findall("Pause")) >= 4  # between the groups, both times
    her.press("1")
    assert "notice_referred_to" in her.heard and her.heard[-1] == "notice_keys_info"
    her.silence()  # nothing pressed: once more, then goodbye
    assert her.heard[-1] == "notice_keys_info"
    her.silence()
    assert her.heard == ["notice_goodbye"] and her.kind == "hangup"


def test_a_meeting_reminder_answered_1_records_the_rsvp(client, db, rt, fake, member,
                                                        clock_at):
    group = create_group(db, T0, "CD01")
    join(db, T0, db.get(Person, member[0]), group)
    db.commit()
    starts = at("2026-12-04 15:00")
    with session_scope(rt.sessions) as s:
        meeting = meetings.create(s, T0, s.get(type(group), group.id), starts,
                                  place="Nha van hoa")
        meeting_id = meeting.id
    jobs.send_meeting_reminders(rt, at("2026-12-03 15:00"))
    place(rt, at("2026-12-03 15:00"), clock_at)
    her = pick_up(client, fake)
    assert her.heard[:2] == ["notice_hello", "notice_meeting"]
    assert "weekday_4" in her.heard and her.heard[-1] == "notice_keys_meeting"
    her.press("1")
    assert her.heard == ["rsvp_yes_said", "notice_goodbye"]
    db.expire_all()
    row = db.scalars(select(Attendance).where(Attendance.meeting_id == meeting_id)).one()
    assert (row.person_id, row.rsvp) == (member[0], "yes")
    [sms] = [m for m in out_to(db, MEMBER) if m.idempotency_key.startswith("meeting:")]
    assert (sms.status, sms.hold_reason) == (MessageStatus.CANCELLED, NotSent.VOICE_INSTEAD)


def test_0_stops_calls_for_her_and_her_sms_flow_again(client, db, rt, fake, member, clock_at):
    open_accept_resolve(db, rt, member[0])
    place(rt, T0, clock_at)
    her = pick_up(client, fake)
    her.press("0")
    assert her.heard == ["notice_stopped", "notice_goodbye"]
    db.expire_all()
    person = db.get(Person, member[0])
    assert person.notify_channel == NotifyChannel.SMS
    consent = db.scalars(select(Consent).where(Consent.purpose == "voice_calls")).one()
    assert consent.answer == "withdrawn" and "voice opt-out" in consent.question
    assert db.scalars(select(AuditLog).where(AuditLog.action == "notify_channel")).one()
    her.hang_up()
    # The resolved notice still queued is not called: its SMS goes instead.
    place(rt, T0 + timedelta(minutes=5), clock_at)
    assert len(placed(fake)) == 1
    later = notices(db)[-1]
    assert later.status == CallbackStatus.GIVEN_UP and "calls stopped" in later.note
    jobs.drain_outbox(rt, T0 + timedelta(minutes=5))
    [sms] = sent_to(db, MEMBER)
    assert sms.hold_reason == NotSent.VOICE_FAILED and "da giai quyet" in sms.body


def test_no_answer_is_tried_three_times_spaced_then_the_sms_goes_with_its_reason(
        client, db, rt, fake, member, clock_at):
    open_voice_case(rt, member[0])
    act(rt, T0, cases.accept)
    now = T0
    for attempt, wait in enumerate((15, 30, None), start=1):
        place(rt, now, clock_at)
        assert len(placed(fake)) == attempt
        ring_out(client, fake, "no-answer" if attempt != 2 else "busy")
        notice = notices(db)[0]
        if wait is None:
            break
        assert notice.status == CallbackStatus.QUEUED
        assert notice.due_at == now + timedelta(minutes=wait)
        place(rt, now + timedelta(minutes=wait - 1), clock_at)  # not before its time
        assert len(placed(fake)) == attempt
        now += timedelta(minutes=wait)
    assert notice.status == CallbackStatus.GIVEN_UP and "SMS sent instead" in notice.note
    place(rt, now + timedelta(hours=2), clock_at)
    assert len(placed(fake)) == 3  # given up: no fourth call
    jobs.drain_outbox(rt, now)
    [sms] = sent_to(db, MEMBER)
    assert sms.hold_reason == NotSent.VOICE_FAILED and "da co nguoi nhan" in sms.body


def test_nothing_rings_outside_the_notice_hours(client, db, rt, fake, member, clock_at):
    evening = at("2026-12-03 17:30")  # callbacks she asked for may ring till 21:00; not this
    open_voice_case(rt, member[0], now=evening)
    act(rt, evening, cases.accept)
    for hour in ("17:30", "20:00", "23:59", "2026-12-04 07:59"):
        when = at(hour if " " in hour else f"2026-12-03 {hour}")
        place(rt, when, clock_at)
        assert placed(fake) == []
    assert notices(db)[0].due_at == at("2026-12-04 08:00")
    place(rt, at("2026-12-04 08:00"), clock_at)
    assert len(placed(fake)) == 1


def test_a_machine_gets_the_short_message_once_and_it_counts_as_left_on_a_machine(
        client, db, rt, fake, member, clock_at):
    open_voice_case(rt, member[0])
    act(rt, T0, cases.accept)
    place(rt, T0, clock_at)
    machine = pick_up(client, fake, answered_by="machine_end_beep")
    assert machine.heard == ["notice_machine", "notice_goodbye"] and machine.kind == "hangup"
    machine.hang_up(duration=9)
    notice = notices(db)[0]
    db.expire_all()
    call = db.scalars(select(Call)).one()
    assert call.answered_by == "machine_end_beep"
    assert notice.status == CallbackStatus.DONE and "left on a machine" in notice.note
    place(rt, T0 + timedelta(hours=2), clock_at)
    assert len(placed(fake)) == 1  # not tried again as if unanswered


def test_a_daily_cap_of_calls_to_one_number(client, db, rt, fake, member, clock_at, app):
    rt.settings = rt.settings.replace(notice_call_cap=1)
    open_accept_resolve(db, rt, member[0])
    place(rt, T0, clock_at)
    pick_up(client, fake).hang_up()
    place(rt, T0 + timedelta(minutes=5), clock_at)
    assert len(placed(fake)) == 1
    waiting = notices(db)[1]
    assert waiting.due_at == at("2026-12-04 08:00") and "daily cap" in waiting.note
    place(rt, at("2026-12-04 08:00"), clock_at)
    assert len(placed(fake)) == 2


def test_a_unknown_or_foreign_callback_says_goodbye(client, db, rt, fake, member, clock_at):
    caller = Caller(client, outbound=True)
    caller.post("/ivr/notice?callback=999", caller.form(AnsweredBy="human"))
    assert caller.heard == ["notice_goodbye"] and caller.kind == "hangup"


def test_a_member_told_by_voice_goes_through_a_whole_case_life_without_one_sms(
        client, db, rt, fake, member, clock_at):
    clock_at(T0)
    her = Caller(client, phone=MEMBER).call().agree("1").press("2").press("1")  # report
    assert her.kind == "record"
    her.speak(duration=9)
    case = the_case(db)
    assert case.channel == "voice" and "case_created" in her.heard  # the number, heard
    provider = db.scalars(select(Provider)).one()
    now = T0
    for verb, args, said in ((cases.accept, (), "notice_case_accepted"),
                             (cases.refer, (provider,), "notice_referred_to"),
                             (cases.resolve, (), "notice_case_resolved")):
        now += timedelta(minutes=10)
        act(rt, now, verb, *args)
        jobs.drain_outbox(rt, now)
        place(rt, now, clock_at)
        call = pick_up(client, fake)
        assert said in call.heard
        call.hang_up()
    asked = at("2026-12-06 10:00")
    jobs.follow_up_cases(rt, asked)
    place(rt, asked, clock_at)
    call = pick_up(client, fake)
    assert "notice_keys_followup_referral" in call.heard
    call.press("1")
    assert call.heard == ["notice_followup_thanks", "notice_goodbye"]
    call.hang_up()
    assert the_case(db).status == CaseStatus.CLOSED
    jobs.drain_outbox(rt, asked + timedelta(minutes=1))
    assert len(placed(fake)) == 4
    assert sent_to(db, MEMBER) == []  # nothing was texted to her
    held = out_to(db, MEMBER)
    assert held and {m.hold_reason for m in held} == {NotSent.VOICE_INSTEAD}


def status_callback(client, fake, **extra):
    """Twilio's final status callback for the call placed last, with ``extra`` fields."""
    last = placed(fake)[-1]
    form = {"CallSid": last["sid"], "AccountSid": "AC" + "0" * 32, "CallStatus": "completed",
            "From": last["From"], "To": last["To"], "Direction": "outbound-api",
            "CallDuration": "11", **extra}
    return client.post("/ivr/status", data=form, headers=sign("/ivr/status", form))


def test_answered_by_a_machine_told_only_in_the_status_callback_counts_as_left_on_a_machine(
        client, db, rt, fake, member, clock_at):
    open_accept_resolve(db, rt, member[0])
    place(rt, T0, clock_at)
    # No answer webhook reached us (a machine hung up on it): only the final status says who.
    assert status_callback(client, fake, AnsweredBy="machine_end_silence").status_code == 204
    db.expire_all()
    call = db.scalars(select(Call)).one()
    assert call.answered_by == "machine_end_silence"
    notice = notices(db)[0]
    assert notice.status == CallbackStatus.DONE and "left on a machine" in notice.note
    # Twilio retries the callback: noted once.
    assert status_callback(client, fake, AnsweredBy="machine_end_silence").status_code == 204
    assert notices(db)[0].note.count("left on a machine") == 1


def test_the_answer_webhook_verdict_is_kept_and_a_human_call_is_not_left_on_a_machine(
        client, db, rt, fake, member, clock_at):
    open_accept_resolve(db, rt, member[0])
    place(rt, T0, clock_at)
    pick_up(client, fake, answered_by="human")
    assert status_callback(client, fake, AnsweredBy="machine_start").status_code == 204
    db.expire_all()
    assert db.scalars(select(Call)).one().answered_by == "human"
    notice = notices(db)[0]
    assert notice.status == CallbackStatus.DONE and "left on a machine" not in notice.note


@pytest.mark.parametrize("value", ["robot", "MACHINE\x00", "human" * 10, "é" * 30, " "])
def test_an_answered_by_twilio_never_sends_is_not_stored_and_no_500(
        client, db, rt, fake, member, clock_at, value):
    open_accept_resolve(db, rt, member[0])
    place(rt, T0, clock_at)
    her = pick_up(client, fake, answered_by=value)  # treated as her: the notice is read
    assert her.heard[0] == "notice_hello"
    assert status_callback(client, fake, AnsweredBy=value).status_code == 204
    db.expire_all()
    assert db.scalars(select(Call)).one().answered_by is None
    assert "left on a machine" not in notices(db)[0].note


def test_a_bhyt_reminder_call_reads_the_day_and_month_her_card_ends(
        client, db, rt, fake, member, clock_at):
    from datetime import date

    her_row = db.get(Person, member[0])
    her_row.bhyt_expires_on = date(2026, 12, 31)
    db.commit()
    jobs.remind_bhyt_renewals(rt, T0)
    place(rt, T0, clock_at)
    her = pick_up(client, fake)
    said = ["notice_hello", "notice_bhyt", "meeting_date", "number_31", "meeting_month",
            "number_12", "notice_bhyt_end"]
    assert her.heard == [*said, "notice_keys_info"]
    her.press("1")  # again: the date too
    assert her.heard == [*said, "notice_keys_info"]
    [sms] = [m for m in out_to(db, MEMBER) if m.idempotency_key.startswith("bhyt:")]
    assert sms.hold_reason == NotSent.VOICE_INSTEAD and "31/12/2026" in sms.body


def test_a_bhyt_reminder_queued_without_its_date_is_still_read(
        client, db, rt, fake, member, clock_at):
    """A call queued before the date was kept (no "date" in its args): the words only."""
    from hotline.services import voice_notices

    with session_scope(rt.sessions) as s:
        voice_notices.queue(s, T0, s.get(Person, member[0]), "bhyt", ref="bhyt:old",
                            say={"date": ""})
    place(rt, T0, clock_at)
    her = pick_up(client, fake)
    assert her.heard == ["notice_hello", "notice_bhyt", "notice_bhyt_end", "notice_keys_info"]
