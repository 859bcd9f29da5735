"""Outbox lanes: emergency, replies, alerts, reminders, broadcasts, in that order, and a
reply queued while a broadcast drains waits at most one send slot."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hotline.db import session_scope
from hotline.models import Kind, Lane, Message, MessageStatus
from hotline.services import outbox
from hotline.services.outbox import Outbox
from tests.conftest import at
from tests.factories import create_person
from tests.fakes.gateway import ScriptedGateway

NOON = at("2026-12-01 12:00")


def people(sessions, n):
    with session_scope(sessions) as s:
        return [create_person(s, NOON, phone=f"+8491200{i:04d}") for i in range(n)]


def broadcast(sessions, members, now):
    with session_scope(sessions) as s:
        return Outbox(s).enqueue_many(now, members, "Hop nhom thu bay", key_prefix="b:1")


def test_enqueue_sets_the_lane_from_the_kind_unless_given(db):
    person = create_person(db, NOON)
    box = Outbox(db)
    lanes = [box.enqueue(NOON, person.phone, "x", kind=kind, person=person, lane=lane).lane
             for kind, lane in [(Kind.URGENT, None), (Kind.REPLY, None), (Kind.NORMAL, None),
                                (Kind.NORMAL, Lane.ALERT)]]
    assert lanes == [Lane.EMERGENCY, Lane.REPLY, Lane.REMINDER, Lane.ALERT]
    box.enqueue_many(NOON, [person], "y", key_prefix="b")
    db.commit()
    assert db.scalar(select(Message.lane).where(Message.idempotency_key == f"b:{person.id}")) \
        == Lane.BROADCAST


def test_drain_sends_lane_by_lane_whatever_was_queued_first(sessions, settings):
    members = people(sessions, 3)
    broadcast(sessions, members, NOON)  # queued first, oldest due_at
    later = NOON.replace(minute=5)
    with session_scope(sessions) as s:
        box = Outbox(s)
        for body, kind, lane in [("reminder", Kind.NORMAL, None),
                                 ("alert", Kind.NORMAL, Lane.ALERT),
                                 ("reply", Kind.REPLY, None), ("sos", Kind.URGENT, None)]:
            box.enqueue(later, members[0].phone, body, kind=kind, lane=lane)
    gateway = ScriptedGateway()
    outbox.drain(sessions, later, gateway, settings)
    assert [body for _, body, _ in gateway.sent] == [
        "sos", "reply", "alert", "reminder"] + ["Hop nhom thu bay"] * 3


def test_reply_queued_mid_broadcast_goes_in_the_next_slot(sessions, settings):
    members = people(sessions, 20)
    broadcast(sessions, members, NOON)

    class Member(ScriptedGateway):
        """Her text arrives (and its reply is queued elsewhere) while the 5th send is out."""

        def send_sms(self, to, body, **kw):
            if len(self.sent) == 4:
                with session_scope(sessions) as s:
                    Outbox(s).enqueue(NOON, members[7].phone, "Da nhan HD", kind=Kind.REPLY,
                                      key="reply:mid")
            return super().send_sms(to, body, **kw)

    gateway = Member()
    report = outbox.drain(sessions, NOON, gateway, settings.replace(send_rate=1000))
    bodies = [body for _, body, _ in gateway.sent]
    assert bodies.index("Da nhan HD") == 5  # right after the broadcast send under way
    assert report.sent == 21 and len(bodies) == 21
    with sessions() as s:
        assert s.scalar(select(Message.status).where(Message.idempotency_key == "reply:mid")) \
            == MessageStatus.SENT


def test_a_full_batch_of_replies_still_stops_at_the_limit(sessions, settings):
    members = people(sessions, 5)
    broadcast(sessions, members, NOON)
    gateway = ScriptedGateway()
    report = outbox.drain(sessions, NOON, gateway, settings, limit=3)
    assert report.sent == 3
    with sessions() as s:
        assert s.scalar(select(Message.id).where(Message.status == MessageStatus.QUEUED)
                        .limit(1)) is not None


def test_a_reply_committed_wakes_the_drain_and_what_can_wait_does_not(sessions):
    [person] = people(sessions, 1)
    outbox.WAKE.clear()
    with session_scope(sessions) as s:  # a reminder, a broadcast, a reply held for later
        box = Outbox(s)
        box.enqueue(NOON, person.phone, "nhac lich", kind=Kind.NORMAL, person=person)
        box.enqueue_many(NOON, [person], "Hop nhom", key_prefix="b:w")
        box.enqueue(NOON, person.phone, "sau", kind=Kind.REPLY, person=person,
                    not_before=NOON + timedelta(hours=1))
    assert not outbox.WAKE.is_set()
    with sessions() as s:  # a reply whose unit of work is rolled back
        Outbox(s).enqueue(NOON, person.phone, "bo", kind=Kind.REPLY, person=person)
        s.rollback()
    with session_scope(sessions):
        pass  # a later commit of another unit of work does not wake for it either
    assert not outbox.WAKE.is_set()
    with session_scope(sessions) as s:
        Outbox(s).enqueue(NOON, person.phone, "tra loi", kind=Kind.REPLY, person=person)
        assert not outbox.WAKE.is_set()  # not before the commit: the drain would not see it
    assert outbox.WAKE.is_set()
