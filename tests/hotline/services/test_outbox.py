"""The outbox: when messages may go, how the drain sends, retries and fails them."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from hotline.db import session_scope
from hotline.gateways.base import GatewayError
from hotline.models import Kind, Message, MessageStatus, Person
from hotline.services import outbox
from hotline.services.outbox import Outbox
from tests.conftest import at
from tests.factories import create_person
from tests.fakes.gateway import ScriptedGateway

NOON = at("2026-12-01 12:00")


def queue(sessions, now, *, n=1, kind=Kind.REPLY, person_phone="+84912000001", **kw):
    with session_scope(sessions) as s:
        person = s.scalar(select(Person).where(Person.phone == person_phone)) or create_person(
            s, now, phone=person_phone
        )
        box = Outbox(s)
        ids = [box.enqueue(now, person.phone, f"tin {i}", kind=kind, person=person, **kw).id
               for i in range(n)]
    return ids


def get(sessions, message_id) -> Message:
    with sessions() as s:
        return s.get(Message, message_id)


class TestEnqueue:
    def test_body_is_sent_unaccented_and_counted_in_segments(self, db):
        person = create_person(db, NOON)
        msg = Outbox(db).enqueue(NOON, person.phone, "Đăng ký thành công", person=person,
                                 kind=Kind.REPLY)
        assert msg.body == "Dang ky thanh cong"
        assert msg.segments == 1 and msg.status == MessageStatus.QUEUED and msg.due_at == NOON

    def test_idempotency_key_queues_once(self, db):
        box = Outbox(db)
        first = box.enqueue(NOON, "+84912000001", "a", key="case-7-alert")
        again = box.enqueue(NOON, "+84912000001", "a", key="case-7-alert")
        other = box.enqueue(NOON, "+84912000001", "b", key="case-7-alert")
        db.commit()
        assert first.id == again.id
        # Other words under a used key are not sent, and the collision is kept to be seen.
        assert (other.status, other.hold_reason, other.idempotency_key) == (
            "cancelled", "duplicate", None)
        assert db.scalars(select(Message).where(Message.status == "queued")).all() == [first]

    def test_normal_message_in_quiet_hours_waits_until_morning(self, db):
        person = create_person(db, NOON)
        late = at("2026-12-01 22:30")
        msg = Outbox(db).enqueue(late, person.phone, "nhac hop", person=person)
        assert msg.due_at == at("2026-12-02 07:00")

    def test_reply_and_urgent_ignore_quiet_hours(self, db):
        person = create_person(db, NOON)
        late = at("2026-12-01 23:10")
        box = Outbox(db)
        assert box.enqueue(late, person.phone, "a", person=person, kind=Kind.REPLY).due_at == late
        assert box.enqueue(late, person.phone, "b", person=person, kind=Kind.URGENT).due_at == late

    def test_daily_cap_defers_the_fourth_to_the_next_morning(self, db):
        person = create_person(db, NOON)
        box = Outbox(db)
        dues = [box.enqueue(NOON, person.phone, f"m{i}", person=person).due_at for i in range(5)]
        assert dues[:3] == [NOON] * 3
        assert dues[3:] == [at("2026-12-02 07:00")] * 2

    def test_cap_counts_what_earlier_units_of_work_queued(self, sessions):
        for _ in range(3):
            queue(sessions, NOON, kind=Kind.NORMAL)
        [fourth] = queue(sessions, NOON, kind=Kind.NORMAL)
        assert get(sessions, fourth).due_at == at("2026-12-02 07:00")

    def test_replies_do_not_count_towards_the_cap(self, db):
        person = create_person(db, NOON)
        box = Outbox(db)
        for _ in range(5):
            box.enqueue(NOON, person.phone, "reply", person=person, kind=Kind.REPLY)
        assert box.enqueue(NOON, person.phone, "normal", person=person).due_at == NOON

    def test_safe_contact_window_is_kept(self, db):
        person = create_person(db, NOON, safe_contact_start=time(17), safe_contact_end=time(19))
        msg = Outbox(db).enqueue(NOON, person.phone, "nhac", person=person)
        assert msg.due_at == at("2026-12-01 17:00")

    def test_not_before_schedules_later(self, db):
        person = create_person(db, NOON)
        msg = Outbox(db).enqueue(NOON, person.phone, "x", person=person,
                                 not_before=NOON + timedelta(hours=3))
        assert msg.due_at == NOON + timedelta(hours=3)


class TestDrain:
    def test_sends_due_messages_once(self, sessions, settings):
        ids = queue(sessions, NOON, n=3)
        gw = ScriptedGateway()
        report = outbox.drain(sessions, NOON, gw, settings)
        again = outbox.drain(sessions, NOON, gw, settings)
        assert report.sent == 3 and again.sent == 0
        assert len(gw.sent) == 3
        assert gw.sent[0][2] == settings.public_url + "/sms/status"
        msg = get(sessions, ids[0])
        assert msg.status == MessageStatus.SENT and msg.external_id and msg.attempts == 1

    def test_future_messages_wait(self, sessions, settings):
        queue(sessions, NOON, not_before=NOON + timedelta(minutes=5))
        gw = ScriptedGateway()
        assert outbox.drain(sessions, NOON, gw, settings).sent == 0
        assert outbox.drain(sessions, NOON + timedelta(minutes=5), gw, settings).sent == 1

    @pytest.mark.parametrize("error", [
        GatewayError("HTTP 500", code="500", transient=True),
        GatewayError("Too many requests", code="20429", transient=True),
        GatewayError("timed out", code="timeout", transient=True),
        RuntimeError("library bug"),
    ])
    def test_transient_errors_retry_with_backoff_then_succeed(self, sessions, settings, error):
        [mid] = queue(sessions, NOON)
        gw = ScriptedGateway(error)
        assert outbox.drain(sessions, NOON, gw, settings).retried == 1
        msg = get(sessions, mid)
        assert msg.status == MessageStatus.QUEUED and msg.due_at == NOON + timedelta(seconds=30)
        assert outbox.drain(sessions, NOON + timedelta(seconds=10), gw, settings).sent == 0
        assert outbox.drain(sessions, NOON + timedelta(seconds=30), gw, settings).sent == 1
        msg = get(sessions, mid)
        assert msg.status == MessageStatus.SENT and msg.attempts == 2 and msg.error_code is None
        assert len(gw.sent) == 1

    def test_gives_up_after_max_attempts_with_the_reason(self, sessions, settings):
        [mid] = queue(sessions, NOON)
        gw = ScriptedGateway(*[GatewayError("HTTP 503", code="503", transient=True)] * 20)
        now = NOON
        for _ in range(outbox.MAX_ATTEMPTS):
            outbox.drain(sessions, now, gw, settings)
            now += timedelta(hours=2)
        msg = get(sessions, mid)
        assert msg.status == MessageStatus.FAILED
        assert msg.error_code == "503" and msg.attempts == outbox.MAX_ATTEMPTS

    @pytest.mark.parametrize("code", ["21211", "21614"])
    def test_permanent_errors_fail_with_the_reason(self, sessions, settings, code):
        [mid] = queue(sessions, NOON)
        gw = ScriptedGateway(GatewayError("invalid", code=code))
        assert outbox.drain(sessions, NOON, gw, settings).failed == 1
        msg = get(sessions, mid)
        assert (msg.status, msg.error_code) == (MessageStatus.FAILED, code)
        assert outbox.drain(sessions, NOON + timedelta(days=1), gw, settings).sent == 0

    def test_21610_opts_the_person_out_and_stops_sending(self, sessions, settings):
        ids = queue(sessions, NOON, n=1) + queue(sessions, NOON, n=2, kind=Kind.NORMAL)
        gw = ScriptedGateway(GatewayError("unsubscribed", code="21610"))
        outbox.drain(sessions, NOON, gw, settings)
        with sessions() as s:
            person = s.scalar(select(Person))
            assert person.opted_out_at == NOON
            statuses = [s.get(Message, i).status for i in ids]
        assert statuses == [MessageStatus.FAILED, MessageStatus.CANCELLED, MessageStatus.CANCELLED]
        assert gw.sent == []

    def test_opted_out_person_gets_replies_but_nothing_else(self, sessions, settings):
        normal = queue(sessions, NOON, kind=Kind.NORMAL)
        reply = queue(sessions, NOON, kind=Kind.REPLY)
        with session_scope(sessions) as s:
            s.scalar(select(Person)).opted_out_at = NOON
        gw = ScriptedGateway()
        report = outbox.drain(sessions, NOON, gw, settings)
        assert (report.sent, report.cancelled) == (1, 1)
        assert get(sessions, normal[0]).status == MessageStatus.CANCELLED
        assert get(sessions, reply[0]).status == MessageStatus.SENT

    def test_late_drain_defers_normal_messages_out_of_quiet_hours(self, sessions, settings):
        [mid] = queue(sessions, NOON, kind=Kind.NORMAL)
        night = at("2026-12-01 23:00")
        assert outbox.drain(sessions, night, ScriptedGateway(), settings).deferred == 1
        msg = get(sessions, mid)
        assert (msg.status, msg.due_at) == (MessageStatus.QUEUED, at("2026-12-02 07:00"))

    def test_rate_limit_spaces_sends(self, sessions, settings):
        queue(sessions, NOON, n=4)
        waits: list[float] = []
        outbox.drain(sessions, NOON, ScriptedGateway(), settings.replace(send_rate=5),
                     sleep=waits.append)
        assert len(waits) == 3 and all(0 < w <= 0.2 for w in waits)


class TestCrashSafety:
    def test_crash_mid_drain_loses_nothing_and_resends_nothing_accepted(self, sessions, settings):
        ids = queue(sessions, NOON, n=4)

        class Crash(BaseException):
            """Stands for the process dying: not an Exception, nothing catches it."""

        class CrashingGateway(ScriptedGateway):
            def send_sms(self, to, body, *, status_callback=None, options=None):
                if len(self.sent) == 2:
                    raise Crash
                return super().send_sms(to, body, status_callback=status_callback)

        crashing = CrashingGateway()
        with pytest.raises(Crash):
            outbox.drain(sessions, NOON, crashing, settings)
        statuses = [get(sessions, i).status for i in ids]
        assert statuses[:2] == [MessageStatus.SENT] * 2
        # The third was claimed when the process died; the fourth never touched.
        assert statuses[2:] == [MessageStatus.SENDING, MessageStatus.QUEUED]

        gw = ScriptedGateway()
        # The claim's lease runs from the claim moment, a little after the run's start.
        later = NOON + outbox.CLAIM_TIMEOUT + timedelta(seconds=1)
        report = outbox.drain(sessions, later, gw, settings)
        assert report.recovered == 1 and report.sent == 2
        assert sorted(body for _, body, _ in gw.sent) == ["tin 2", "tin 3"]
        third = get(sessions, ids[2])
        assert third.status == MessageStatus.SENT and third.maybe_duplicate

    def test_a_long_run_claims_with_a_live_lease(self, sessions, settings, monkeypatch):
        """A drain run longer than CLAIM_TIMEOUT (slow gateway, shared mode): a row it claims
        late must not look stale to another process's drain, which would send it again."""
        ids = queue(sessions, NOON, n=3)
        clock = {"now": 0.0}
        monkeypatch.setattr(outbox, "_time", type("FakeTime", (), {
            "monotonic": staticmethod(lambda: clock["now"]), "sleep": staticmethod(
                lambda s: clock.update(now=clock["now"] + s))}))
        send = timedelta(seconds=90)  # each send takes 90 s: three outlast the 2 min lease
        other = ScriptedGateway()
        seen = []

        class SlowGateway(ScriptedGateway):
            def send_sms(self, to, body, *, status_callback=None, options=None):
                clock["now"] += send.total_seconds()
                if body == "tin 2":  # claimed 180 s into the run: another process drains
                    elapsed = timedelta(seconds=clock["now"])
                    seen.append(get(sessions, ids[2]).due_at)
                    outbox.drain(sessions, NOON + elapsed, other, settings)
                return super().send_sms(to, body, status_callback=status_callback)

        slow = SlowGateway()
        report = outbox.drain(sessions, NOON, slow, settings)
        assert seen == [NOON + 2 * send + outbox.CLAIM_TIMEOUT]  # the lease from the claim
        assert report.sent == 3 and other.sent == []
        assert [get(sessions, i).status for i in ids] == [MessageStatus.SENT] * 3
        assert not any(get(sessions, i).maybe_duplicate for i in ids)


class TestStatusCallbacks:
    def sent_message(self, sessions, settings):
        [mid] = queue(sessions, NOON)
        outbox.drain(sessions, NOON, ScriptedGateway(), settings)
        return get(sessions, mid)

    @pytest.mark.parametrize("order, final", [
        (["sent", "delivered"], MessageStatus.DELIVERED),
        (["delivered", "sent"], MessageStatus.DELIVERED),
        (["delivered", "sending", "queued", "sent"], MessageStatus.DELIVERED),
        (["undelivered", "sent"], MessageStatus.UNDELIVERED),
        (["failed", "delivered"], MessageStatus.FAILED),
        (["sending", "sent"], MessageStatus.SENT),
    ])
    def test_callbacks_only_move_forward(self, sessions, settings, order, final):
        msg = self.sent_message(sessions, settings)
        for status in order:
            with session_scope(sessions) as s:
                outbox.record_status(s, NOON, "simulator", msg.external_id, status)
        assert get(sessions, msg.id).status == final

    def test_unknown_sid_and_status_change_nothing(self, sessions, settings):
        msg = self.sent_message(sessions, settings)
        with session_scope(sessions) as s:
            assert outbox.record_status(s, NOON, "simulator", "SMnope", "delivered") is None
            outbox.record_status(s, NOON, "simulator", msg.external_id, "bogus")
        assert get(sessions, msg.id).status == MessageStatus.SENT


def test_peer_educators_get_every_work_alert_but_not_at_night(db):
    from hotline.models import Role

    pe = create_person(db, NOON, role=Role.PEER_EDUCATOR)
    box = Outbox(db)
    dues = [box.enqueue(NOON, pe.phone, f"alert {i}", person=pe).due_at for i in range(6)]
    assert dues == [NOON] * 6
    assert box.enqueue(at("2026-12-01 22:00"), pe.phone, "late", person=pe).due_at == at(
        "2026-12-02 07:00")
