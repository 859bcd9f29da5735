"""Broadcasts and insurance renewal reminders."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from hotline.db import session_scope
from hotline.models import Broadcast, CallbackRequest, Message, MessageStatus
from hotline.services import broadcasts
from hotline.services.outbox import Outbox
from scheduler import jobs
from tests.conftest import at
from tests.factories import create_group, create_person, join

T0 = at("2026-12-01 10:00")


@pytest.fixture
def people(sessions):
    with session_scope(sessions) as s:
        group = create_group(s, T0, "CD01")
        for i in range(6):
            p = create_person(s, T0, phone=f"+8491200020{i}", registered_at=T0,
                              sex="F" if i % 2 == 0 else "M", birth_year=1990 - i,
                              occupation="vendor" if i < 4 else "scrap", ward_old="Phúc Tân")
            if i < 5:
                join(s, T0, p, group)
        create_person(s, T0, phone="+84912000299", registered_at=T0, opted_out_at=T0)
        create_person(s, T0, phone="+84912000298")  # never registered
        return group.id


def test_preview_counts_recipients_segments_and_cost(sessions, people):
    with sessions() as s:
        p = broadcasts.preview(s, T0, "Họp nhóm tháng này bàn về bảo hiểm y tế", {}, 350)
        assert (p.recipients, p.segments, p.messages, p.cost) == (6, 1, 6, 2100)
        assert p.text == "Hop nhom thang nay ban ve bao hiem y te"
        women = broadcasts.preview(s, T0, "x", {"sex": "F", "occupation": "vendor"}, 350)
        assert women.recipients == 2
        grouped = broadcasts.preview(s, T0, "x", {"group_id": people}, 350)
        assert grouped.recipients == 5
        # Born 1985-1990, aged 36-41 in 2026: the same bands as the reports'.
        thirties = broadcasts.preview(s, T0, "x", {"age_band": "30-39"}, 350).recipients
        forties = broadcasts.preview(s, T0, "x", {"age_band": "40-49"}, 350).recipients
        assert thirties > 0 and forties > 0 and thirties + forties == 6
        assert broadcasts.preview(s, T0, "x", {"age_band": "18-29"}, 350).recipients == 0


def test_broadcast_is_queued_once_skipping_opted_out(rt, sessions, people):
    with session_scope(sessions) as s:
        bid = broadcasts.create(s, T0, "Nhắc họp", {}, send_at=T0 + timedelta(hours=1)).id
    assert jobs.queue_broadcasts(rt, T0) == 0
    assert jobs.queue_broadcasts(rt, T0 + timedelta(hours=1)) == 6
    assert jobs.queue_broadcasts(rt, T0 + timedelta(hours=1)) == 0
    with sessions() as s:
        msgs = s.scalars(select(Message).where(Message.broadcast_id == bid)).all()
        assert len(msgs) == 6 and {m.body for m in msgs} == {"Nhac hop"}
        assert "+84912000299" not in {m.phone for m in msgs}
        assert s.get(Broadcast, bid).recipients == 6


def test_broadcast_at_night_waits_and_respects_the_daily_cap(rt, sessions, people):
    night = at("2026-12-01 22:00")
    with session_scope(sessions) as s:
        capped = s.scalar(select(broadcasts.Person).where(
            broadcasts.Person.phone == "+84912000200"))
        box = Outbox(s)
        for i in range(3):
            box.enqueue(at("2026-12-02 08:00"), capped.phone, f"m{i}", person=capped)
        broadcasts.create(s, night, "Thong bao", {})
    jobs.queue_broadcasts(rt, night)
    with sessions() as s:
        dues = {m.phone: m.due_at for m in s.scalars(
            select(Message).where(Message.broadcast_id.is_not(None)))}
    assert dues.pop("+84912000200") == at("2026-12-03 07:00")
    assert set(dues.values()) == {at("2026-12-02 07:00")}


def test_progress_by_status(rt, sessions, people):
    with session_scope(sessions) as s:
        bid = broadcasts.create(s, T0, "Thong bao", {"group_id": people}).id
    jobs.queue_broadcasts(rt, T0)
    jobs.drain_outbox(rt, T0)
    with sessions() as s:
        assert broadcasts.progress(s, s.get(Broadcast, bid)) == {MessageStatus.DELIVERED: 5}


def test_cancelled_broadcast_sends_nothing(rt, sessions, people):
    with session_scope(sessions) as s:
        b = broadcasts.create(s, T0, "x", {}, send_at=T0 + timedelta(hours=1))
        assert broadcasts.cancel(s, b)
    jobs.queue_broadcasts(rt, T0 + timedelta(hours=2))
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 0


def test_bhyt_renewal_reminders_30_and_7_days_before(rt, sessions):
    with session_scope(sessions) as s:
        create_person(s, T0, phone="+84912000301", registered_at=T0,
                      bhyt_expires_on=date(2026, 12, 31))
    days = [at("2026-12-01 10:00") + timedelta(days=d) for d in range(0, 40)]
    for now in days:
        jobs.remind_bhyt_renewals(rt, now)
        jobs.remind_bhyt_renewals(rt, now)
    with sessions() as s:
        msgs = s.scalars(select(Message).order_by(Message.id)).all()
    assert [m.idempotency_key.rsplit(":", 1)[1] for m in msgs] == ["30", "7"]
    assert msgs[0].due_at == at("2026-12-01 10:00")
    assert msgs[1].due_at == at("2026-12-24 10:00")
    assert "31/12/2026" in msgs[0].body


def test_queueing_again_after_a_crash_adds_only_the_missing_and_says_how_many(sessions,
                                                                              people):
    """A broadcast job that died half way is run again: those already queued are not
    queued twice, and the answer counts only the new ones."""
    with session_scope(sessions) as s:
        everyone = s.scalars(select(broadcasts.Person).where(
            broadcasts.Person.opted_out_at.is_(None)).order_by(broadcasts.Person.id)).all()
        box = Outbox(s)
        assert box.enqueue_many(T0, everyone[:3], "Hop", key_prefix="b9") == 3
    with session_scope(sessions) as s:
        everyone = s.scalars(select(broadcasts.Person).where(
            broadcasts.Person.opted_out_at.is_(None)).order_by(broadcasts.Person.id)).all()
        box = Outbox(s)
        assert box.enqueue_many(T0, everyone, "Hop", key_prefix="b9") == len(everyone) - 3
        assert box.enqueue_many(T0, everyone, "Hop", key_prefix="b9") == 0
    with sessions() as s:
        keys = s.scalars(select(Message.idempotency_key)).all()
        assert sorted(keys) == sorted(f"b9:{p.id}" for p in everyone)


def test_compose_sends_only_on_yes_with_the_count_she_saw(sessions, people):
    def compose(**draft):
        with session_scope(sessions) as s:
            return broadcasts.compose(s, T0, None, broadcasts.Draft(**draft), 350)

    text = "Họp nhóm thứ Bảy"
    asked = compose(text=text, segment={"group_id": str(people)}, step="1")
    assert (asked.confirming, asked.queued, asked.preview.recipients) == (True, False, 5)
    again = compose(text=text, segment={"group_id": str(people)}, step="confirm",
                    recipients_seen=6)  # the group changed since: ask again
    assert (again.confirming, again.queued) == (True, False)
    assert compose(text="", step="1").refused == "Write the message first."
    assert compose(text=text, segment={"group_id": "999999"}, step="confirm",
                   recipients_seen=0).refused == "Choose a group from the list."
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count(Broadcast.id))) == 0
    done = compose(text=text, segment={"group_id": str(people)}, step="confirm",
                   recipients_seen=5)
    assert done.queued
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count(Broadcast.id))) == 1


def _tell_by(sessions, channels: dict[str, str]) -> None:
    with session_scope(sessions) as s:
        for phone, channel in channels.items():
            s.scalar(select(broadcasts.Person).where(
                broadcasts.Person.phone == phone)).notify_channel = channel


def test_preview_counts_the_voice_calls_their_minutes_and_cost(sessions, people):
    _tell_by(sessions, {"+84912000200": "voice", "+84912000201": "both"})
    body = "Họp nhóm tháng này bàn về bảo hiểm y tế"
    with sessions() as s:
        p = broadcasts.preview(s, T0, body, {}, 350, 4000)
    assert broadcasts.call_minutes(body) == 1 and broadcasts.call_minutes("x" * 600) == 2
    assert (p.recipients, p.messages, p.cost) == (6, 6, 2100)  # her SMS is the fallback
    assert (p.calls, p.minutes, p.call_cost) == (2, 2, 8000)
    with sessions() as s:
        assert broadcasts.preview(s, T0, body, {"sex": "M"}, 350, 4000).calls == 1


def test_voice_members_get_the_broadcast_said_in_a_call_once(rt, sessions, people):
    from hotline.models import CallbackRequest, NotSent

    _tell_by(sessions, {"+84912000200": "voice", "+84912000201": "both"})
    with session_scope(sessions) as s:
        bid = broadcasts.create(s, T0, "Họp nhóm chủ nhật", {}).id
    jobs.queue_broadcasts(rt, T0)
    jobs.queue_broadcasts(rt, T0)
    with sessions() as s:
        calls = s.scalars(select(CallbackRequest).order_by(CallbackRequest.phone)).all()
        sms = {m.phone: m for m in s.scalars(select(Message).where(
            Message.broadcast_id == bid))}
    assert [(c.phone, c.notice, c.notice_ref, c.notice_args) for c in calls] == [
        ("+84912000200", "broadcast", f"broadcast:{bid}", {"text": "Họp nhóm chủ nhật"}),
        ("+84912000201", "broadcast", f"broadcast:{bid}", {"text": "Họp nhóm chủ nhật"})]
    assert calls[0].message_id == sms["+84912000200"].id
    # Voice only: her SMS waits as the fallback; both: it goes too; SMS: no call.
    assert sms["+84912000200"].hold_reason == NotSent.VOICE_INSTEAD
    assert sms["+84912000201"].status == MessageStatus.QUEUED
    assert sms["+84912000202"].status == MessageStatus.QUEUED


def test_a_broadcast_is_queued_in_batches_each_member_once(rt, sessions, people,
                                                           monkeypatch):
    """``QUEUE_BATCH`` people at a time (the scheduler's memory): across batches every member
    of the segment is queued once, the count is the whole segment's, and a member told by
    voice in the last batch gets her call."""
    monkeypatch.setattr(broadcasts, "QUEUE_BATCH", 2)
    batches = []
    enqueue_many = Outbox.enqueue_many

    def counting(self, now, recipients, *args, **kwargs):
        batches.append([p.phone for p in recipients])
        return enqueue_many(self, now, recipients, *args, **kwargs)

    monkeypatch.setattr(Outbox, "enqueue_many", counting)
    _tell_by(sessions, {"+84912000204": "voice"})
    with session_scope(sessions) as s:
        bid = broadcasts.create(s, T0, "Họp nhóm", {"group_id": str(people)}).id
    assert jobs.queue_broadcasts(rt, T0) == 5
    assert jobs.queue_broadcasts(rt, T0) == 0
    assert batches == [["+84912000200", "+84912000201"], ["+84912000202", "+84912000203"],
                       ["+84912000204"]]
    with sessions() as s:
        phones = s.scalars(select(Message.phone).where(Message.broadcast_id == bid)).all()
        calls = s.scalars(select(CallbackRequest.phone)).all()
        assert s.get(Broadcast, bid).recipients == 5
    assert sorted(phones) == [f"+8491200020{i}" for i in range(5)]
    assert calls == ["+84912000204"]


def test_bhyt_renewal_by_voice_for_a_voice_member(rt, sessions):
    from hotline.models import CallbackRequest, NotSent

    with session_scope(sessions) as s:
        create_person(s, T0, phone="+84912000302", registered_at=T0, notify_channel="voice",
                      bhyt_expires_on=date(2026, 12, 31))
    jobs.remind_bhyt_renewals(rt, T0)
    jobs.remind_bhyt_renewals(rt, T0)
    with sessions() as s:
        call = s.scalars(select(CallbackRequest)).one()
        msg = s.scalars(select(Message)).one()
    assert (call.notice, call.notice_ref, call.message_id) == ("bhyt", msg.idempotency_key,
                                                               msg.id)
    assert msg.hold_reason == NotSent.VOICE_INSTEAD and "31/12/2026" in msg.body
