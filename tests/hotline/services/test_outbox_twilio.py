"""The outbox through the real twilio client against the local fake Twilio."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.db import session_scope
from hotline.gateways.twilio import TwilioGateway
from hotline.models import Kind, Message, MessageStatus, Person
from hotline.services import outbox
from hotline.services.outbox import Outbox
from tests.conftest import AUTH_TOKEN, TWILIO_FROM, TWILIO_SID, at
from tests.factories import create_person

SID, TOKEN, FROM = TWILIO_SID, AUTH_TOKEN, TWILIO_FROM
NOON = at("2026-12-01 12:00")


@pytest.fixture
def gateway(fake_twilio):
    gw = TwilioGateway(SID, TOKEN, FROM, api_base_url=fake_twilio.url, timeout=0.5)
    yield gw
    gw.close()


def queue(sessions, n=1, body="Ho so {i}: da nhan"):
    with session_scope(sessions) as s:
        person = create_person(s, NOON, phone="+84912345678")
        box = Outbox(s, gateway="twilio")
        return [box.enqueue(NOON, person.phone, body.format(i=i), person=person,
                            kind=Kind.REPLY).id for i in range(n)]


def test_exact_request_sent(sessions, settings, fake_twilio, gateway):
    [mid] = queue(sessions, body="Đã nhận hồ sơ 1024")
    assert outbox.drain(sessions, NOON, gateway, settings).sent == 1
    req = fake_twilio.last
    assert req.method == "POST"
    assert req.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert req.auth == (SID, TOKEN)
    assert req.form == {
        "To": "+84912345678",
        "From": FROM,
        "Body": "Da nhan ho so 1024",
        "StatusCallback": "https://hotline.example.org/sms/status",
    }
    with sessions() as s:
        msg = s.get(Message, mid)
        assert msg.external_id == fake_twilio.messages[0]["sid"]
        assert msg.status == MessageStatus.SENT


def test_retry_after_500_429_timeout_and_drop_then_success(sessions, settings, fake_twilio,
                                                           gateway):
    [mid] = queue(sessions)
    fake_twilio.fail_next(1, status=500)
    fake_twilio.fail_next(1, status=429)
    fake_twilio.delay_next(1, seconds=2)
    fake_twilio.drop_next(1)
    now = NOON
    codes = []
    for _ in range(4):
        assert outbox.drain(sessions, now, gateway, settings).retried == 1
        with sessions() as s:
            msg = s.get(Message, mid)
            codes.append(msg.error_code)
            now = msg.due_at
    assert codes == ["20500", "20429", "timeout", "connection"]
    assert outbox.drain(sessions, now, gateway, settings).sent == 1
    assert len(fake_twilio.messages) == 1
    with sessions() as s:
        msg = s.get(Message, mid)
        assert (msg.status, msg.attempts, msg.external_id) == (
            MessageStatus.SENT, 5, fake_twilio.messages[0]["sid"])


def test_21610_opts_out_and_stops_sending(sessions, settings, fake_twilio, gateway):
    queue(sessions, n=1)
    with session_scope(sessions) as s:
        person = s.scalar(select(Person))
        box = Outbox(s, gateway="twilio")
        later = box.enqueue(NOON, person.phone, "nhac hop", person=person).id
    fake_twilio.fail_next(1, status=400, code=21610)
    outbox.drain(sessions, NOON, gateway, settings)
    outbox.drain(sessions, NOON + timedelta(hours=1), gateway, settings)
    assert fake_twilio.messages == []  # nothing accepted after the STOP
    with sessions() as s:
        assert s.scalar(select(Person)).opted_out_at == NOON
        assert s.get(Message, later).status == MessageStatus.CANCELLED
    assert len(fake_twilio.requests) == 1


@pytest.mark.parametrize("code", [21211, 21614])
def test_invalid_and_landline_numbers_fail_permanently(sessions, settings, fake_twilio, gateway,
                                                       code):
    [mid] = queue(sessions)
    fake_twilio.fail_next(1, status=400, code=code)
    assert outbox.drain(sessions, NOON, gateway, settings).failed == 1
    with sessions() as s:
        msg = s.get(Message, mid)
        assert (msg.status, msg.error_code) == (MessageStatus.FAILED, str(code))
        assert msg.error_message


def test_reconcile_asks_twilio_about_messages_whose_callback_never_came(
        sessions, settings, fake_twilio, gateway):
    ids = queue(sessions, n=3)
    outbox.drain(sessions, NOON, gateway, settings)
    fake_twilio.messages[0]["status"] = "delivered"
    fake_twilio.messages[1].update(status="undelivered", error_code=30003)
    # Too early: callbacks may still come.
    assert outbox.reconcile(sessions, NOON + timedelta(minutes=5), gateway) == 0
    assert outbox.reconcile(sessions, NOON + timedelta(hours=1), gateway) == 2
    with sessions() as s:
        rows = [s.get(Message, i) for i in ids]
        assert [m.status for m in rows] == [
            MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.SENT]
        assert rows[1].error_code == "30003"
    gets = [r for r in fake_twilio.requests if r.method == "GET"]
    assert len(gets) == 3  # one look-up per stuck message


def test_reconcile_skips_gateways_that_cannot_tell(sessions, settings):
    from tests.fakes.gateway import ScriptedGateway

    queue(sessions)
    gw = ScriptedGateway()
    outbox.drain(sessions, NOON, gw, settings)
    assert outbox.reconcile(sessions, NOON + timedelta(hours=1), gw) == 0


def test_a_message_queued_under_another_gateway_setting_gets_its_twilio_status(
        sessions, settings, fake_twilio, gateway):
    # Queued while the setting said android, sent after it changed to twilio.
    with session_scope(sessions) as s:
        mid = Outbox(s, gateway="android").enqueue(NOON, "+84912345678", "Da nhan",
                                                   kind=Kind.REPLY).id
    assert outbox.drain(sessions, NOON, gateway, settings).sent == 1
    sid = fake_twilio.messages[0]["sid"]
    with session_scope(sessions) as s:
        assert outbox.record_status(s, NOON, "twilio", sid, "delivered") is not None
    with sessions() as s:
        msg = s.get(Message, mid)
        assert (msg.gateway, msg.status) == ("twilio", MessageStatus.DELIVERED)


def test_reconcile_asks_the_gateway_that_sent_whatever_the_setting_is_now(
        sessions, settings, fake_twilio):
    from hotline.runtime import Runtime
    from scheduler import jobs

    [mid] = queue(sessions)
    twilio = settings.replace(sms_gateway="twilio", twilio_account_sid=SID,
                              twilio_auth_token=TOKEN, twilio_from=FROM,
                              twilio_api_base_url=fake_twilio.url)
    before = Runtime(twilio)
    assert jobs.drain_outbox(before, NOON).sent == 1
    before.close()
    fake_twilio.messages[0]["status"] = "delivered"
    # The line moves its SMS to the Android phone; Twilio's messages are still Twilio's.
    after = Runtime(twilio.replace(sms_gateway="android"))
    assert jobs.reconcile_statuses(after, NOON + timedelta(hours=1)) == 1
    after.close()
    with sessions() as s:
        assert s.get(Message, mid).status == MessageStatus.DELIVERED
