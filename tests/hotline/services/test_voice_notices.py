"""Voice notices, the core: the kinds, queueing once, the channel and how it is recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hotline.models import (
    AuditLog,
    CallbackRequest,
    CallbackStatus,
    Consent,
    Message,
    MessageStatus,
    NotifyChannel,
    NotSent,
)
from hotline.services import people, voice_notices
from hotline.services.outbox import Outbox, send_after_all
from hotline.services.people import PeopleError
from tests.conftest import at
from tests.factories import create_person

T0 = at("2026-12-03 09:00")


def test_a_new_person_is_told_by_sms(db):
    person = create_person(db, T0)
    db.commit()
    db.expire_all()
    assert person.notify_channel == NotifyChannel.SMS
    assert not voice_notices.wants_voice(person)


@pytest.mark.parametrize("channel, wanted", [("sms", False), ("voice", True), ("both", True)])
def test_who_wants_voice(db, channel, wanted):
    person = create_person(db, T0, notify_channel=channel)
    assert voice_notices.wants_voice(person) is wanted
    person.opted_out_at = T0  # HUY stops everything, calls too
    assert not voice_notices.wants_voice(person)


def test_queue_makes_one_notice_call_per_kind_ref_and_person(db):
    person = create_person(db, T0, notify_channel="voice")
    first = voice_notices.queue(db, T0, person, "case_accepted", ref="case:7",
                                say={"number": 1007})
    again = voice_notices.queue(db, T0, person, "case_accepted", ref="case:7",
                                say={"number": 1007})
    other = voice_notices.queue(db, T0, person, "case_resolved", ref="case:7",
                                say={"number": 1007})
    assert first.id == again.id != other.id
    assert (first.reason, first.notice, first.notice_ref, first.status, first.case_id) == (
        "notice", "case_accepted", "case:7", CallbackStatus.QUEUED, None)
    assert first.notice_args == {"number": "1007"}
    assert db.scalar(select(func.count(CallbackRequest.id))) == 2


def test_queue_refuses_an_unknown_kind_and_missing_slots(db):
    person = create_person(db, T0, notify_channel="voice")
    with pytest.raises(ValueError):
        voice_notices.queue(db, T0, person, "no_such_kind", ref="x")
    with pytest.raises(ValueError, match="phone"):
        voice_notices.queue(db, T0, person, "case_referred", ref="referral:1",
                            say={"number": 1, "provider": "Luat"})


def test_queue_calls_nobody_who_is_told_by_sms(db):
    person = create_person(db, T0)
    assert voice_notices.queue(db, T0, person, "case_accepted", ref="case:1",
                               say={"number": 1}) is None


def test_every_kind_takes_zero_to_stop_and_a_key_to_hear_again():
    for kind in voice_notices.KINDS.values():
        assert kind.keys["0"] == voice_notices.STOP, kind.name
        assert voice_notices.AGAIN in kind.keys.values(), kind.name
        assert not kind.asked_for, kind.name  # only emergencies ring outside 08:00-17:00
    with pytest.raises(ValueError):
        voice_notices.NoticeKind("bad", ("notice_hello",), keys={"1": "again"})
    with pytest.raises(ValueError):
        voice_notices.NoticeKind("bad", ("{nope}",))


def test_every_notice_prompt_is_in_the_catalogue_and_checked():
    from audio.catalogue import CATALOGUE
    from ivr.menu import reachable_prompt_keys

    keys = voice_notices.prompt_keys()
    assert keys <= set(CATALOGUE)
    assert keys <= reachable_prompt_keys()  # so `flask audio check` covers them


def _sms(db, person, key="case:1:case_accepted:0"):
    return Outbox(db).enqueue(T0, person.phone, "STONES: Ho so 1001 da co nguoi nhan",
                              person=person, key=key)


def test_tell_by_voice_keeps_the_sms_back_with_its_reason_and_queues_a_call(db):
    person = create_person(db, T0, notify_channel="voice")
    msg = _sms(db, person)
    call = voice_notices.tell(db, T0, person, "case_accepted", msg, ref="case:1",
                              say={"number": 1001})
    assert (msg.status, msg.hold_reason) == (MessageStatus.CANCELLED, NotSent.VOICE_INSTEAD)
    assert call.message_id == msg.id
    # The job runs again: the same SMS row, the same call.
    again = voice_notices.tell(db, T0, person, "case_accepted", _sms(db, person),
                               ref="case:1", say={"number": 1001})
    assert again.id == call.id
    # The calls failed: the SMS goes after all, saying why it is late.
    assert send_after_all(msg, T0)
    assert (msg.status, msg.hold_reason) == (MessageStatus.QUEUED, NotSent.VOICE_FAILED)
    assert not send_after_all(msg, T0)  # once


def test_tell_both_sends_the_sms_and_calls(db):
    person = create_person(db, T0, notify_channel="both")
    msg = _sms(db, person)
    call = voice_notices.tell(db, T0, person, "case_accepted", msg, ref="case:1",
                              say={"number": 1001})
    assert (msg.status, msg.hold_reason) == (MessageStatus.QUEUED, None)
    assert call is not None and not send_after_all(msg, T0)


def test_tell_sms_changes_nothing(db):
    person = create_person(db, T0)
    msg = _sms(db, person)
    assert voice_notices.tell(db, T0, person, "case_accepted", msg, ref="case:1",
                              say={"number": 1001}) is None
    assert msg.status == MessageStatus.QUEUED
    assert db.scalar(select(func.count(CallbackRequest.id))) == 0


def test_set_notify_channel_is_kept_in_the_consent_log_and_the_audit(db):
    person = create_person(db, T0)
    assert people.set_notify_channel(db, T0, person, "voice", source="sms")
    assert not people.set_notify_channel(db, T0, person, "voice", source="sms")  # unchanged
    assert people.set_notify_channel(db, T0, person, NotifyChannel.SMS, source="voice",
                                     note="voice opt-out")
    log = db.scalars(select(Consent).where(Consent.person_id == person.id)
                     .order_by(Consent.id)).all()
    assert [(c.purpose, c.channel, c.answer) for c in log] == [
        ("voice_calls", "sms", "granted"), ("voice_calls", "voice", "withdrawn")]
    assert "voice opt-out" in log[1].question
    audits = db.scalars(select(AuditLog).where(AuditLog.action == "notify_channel")
                        .order_by(AuditLog.id)).all()
    assert [(a.detail["before"], a.detail["after"], a.actor) for a in audits] == [
        ("sms", "voice", "member (sms)"), ("voice", "sms", "member (voice)")]
    assert person.notify_channel == NotifyChannel.SMS
    with pytest.raises(PeopleError):
        people.set_notify_channel(db, T0, person, "fax", source="console")


def test_a_queued_notice_is_never_taken_for_her_own_callback(db):
    from hotline.services import calls

    person = create_person(db, T0, notify_channel="voice")
    notice = voice_notices.queue(db, T0, person, "case_accepted", ref="case:1",
                                 say={"number": 1001})
    callback = calls.queue_callback(db, T0, person.phone, person, reason="ivr")
    assert callback.id != notice.id and callback.reason == "ivr"
    assert [calls.webhook_path(r) for r in ("notice", "emergency", "ivr")] == [
        "/ivr/notice", "/ivr/alert", "/ivr/incoming"]


def test_a_voice_member_is_reminded_of_a_meeting_by_call_and_may_still_answer_by_sms(db):
    from hotline.services import meetings
    from tests.factories import create_group, join

    group = create_group(db, T0, "CD01")
    voice = create_person(db, T0, registered_at=T0, notify_channel="voice")
    texted = create_person(db, T0, registered_at=T0)
    for person in (voice, texted):
        join(db, T0, person, group)
    meeting = meetings.create(db, T0, group, at("2026-12-04 15:00"), place="Nha van hoa")
    [reminder] = [r for r in meeting_reminders(db) if r.offset_minutes == 24 * 60]
    meetings.send_reminder(db, at("2026-12-03 15:00"), Outbox(db), reminder)
    assert reminder.recipients == 2
    assert voice.pending_kind == "rsvp" and voice.pending_ref == meeting.id  # CO still works
    [call] = db.scalars(select(CallbackRequest)).all()
    assert (call.person_id, call.notice) == (voice.id, "meeting_reminder")
    assert call.notice_args["when"].startswith("2026-12-04T15:00")


def meeting_reminders(db):
    from hotline.models import MeetingReminder

    return db.scalars(select(MeetingReminder)).all()


@pytest.mark.parametrize("bulk", [False, True])
def test_sms_held_for_voice_do_not_count_towards_her_daily_cap(db, bulk):
    """Within one unit of work (a job telling her three things) the outbox's own count of
    her day leaves the SMS held for voice out, as the database's count does: the next SMS
    she is sent is not held back for the cap."""
    voice = create_person(db, T0, notify_channel="voice")
    reader = create_person(db, T0)
    box = Outbox(db, daily_cap=3)
    for n in range(3):
        if bulk:  # a broadcast queues in bulk, then tells each voice member
            box.enqueue_many(T0, [voice, reader], f"tin {n}", key_prefix=f"b{n}")
            held = db.scalars(select(Message).where(
                Message.idempotency_key == f"b{n}:{voice.id}")).one()
        else:
            held = box.enqueue(T0, voice.phone, f"tin {n}", person=voice, key=f"n{n}")
            box.enqueue(T0, reader.phone, f"tin {n}", person=reader, key=f"r{n}")
        voice_notices.tell(db, T0, voice, "broadcast", held, ref=f"x{n}", say={"text": "t"})
        assert held.hold_reason == NotSent.VOICE_INSTEAD
    to_her = box.enqueue(T0, voice.phone, "tin nhan thu tu", person=voice)
    assert (to_her.due_at, to_her.hold_reason) == (T0, None)
    # The cap itself still holds for a member told by SMS.
    capped = box.enqueue(T0, reader.phone, "tin nhan thu tu", person=reader)
    assert capped.hold_reason == NotSent.DAILY_CAP and capped.due_at > T0
