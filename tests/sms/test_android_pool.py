"""The Android door with a SIM pool: per-phone keys, last seen, the texted SIM answers,
multipart delivery reports, HUY cancelling at the gateway; against the fake gateway server."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline import clock
from hotline.db import session_scope
from hotline.gateways.android import AndroidGateway
from hotline.gateways.base import SendOptions
from hotline.models import GatewayDevice, Kind, Message, MessageStatus
from hotline.services import outbox
from scheduler import jobs
from tests.factories import create_device, create_person, handle_sms
from tests.fakes.android_server import FakeAndroid, event
from tests.sms.test_webhooks import android_post, signed_post

PHONE_KEY = "key-copied-from-the-phone"
MEMBER = "+84961234567"


@pytest.fixture
def fake():
    with FakeAndroid(login="hl", password="pw") as server:
        yield server


@pytest.fixture
def settings(settings, fake):
    from tests.conftest import AUTH_TOKEN

    return settings.replace(sms_gateway="android", android_url=fake.base_url,
                            android_login="hl", android_password="pw",
                            twilio_auth_token=AUTH_TOKEN, twilio_account_sid="AC" + "0" * 32)


@pytest.fixture
def sims(sessions, fake):
    """The fake's phone with two SIMs, each set up with the phone's own signing key."""
    now = clock.utcnow()
    with session_scope(sessions) as s:
        one = create_device(s, now, app_device_id=fake.device_id, sim_number=1,
                            phone="+84981111111", webhook_secret=PHONE_KEY)
        two = create_device(s, now, app_device_id=fake.device_id, sim_number=2,
                            phone="+84941111111", webhook_secret=PHONE_KEY)
        return one.id, two.id


def rt(client):
    return client.application.extensions["hotline"]


def test_ping_signed_with_the_phones_key_marks_it_seen(client, sessions, sims, fake):
    with session_scope(sessions) as s:
        s.execute(GatewayDevice.__table__.update().values(last_seen_at=None))
    assert android_post(client, event("system:ping", device_id=fake.device_id),
                        secret=PHONE_KEY).status_code == 204
    with sessions() as s:
        seen = s.scalars(select(GatewayDevice)).all()
    assert all(d.last_seen_at is not None and d.last_event == "system:ping" for d in seen)


def test_a_key_of_another_phone_is_refused_and_changes_nothing(client, sessions, sims):
    with session_scope(sessions) as s:
        s.execute(GatewayDevice.__table__.update().values(last_seen_at=None))
    resp = android_post(client, event("system:ping", device_id="someone-else"),
                        secret=PHONE_KEY)
    assert resp.status_code == 403
    with sessions() as s:
        assert s.scalars(select(GatewayDevice.last_seen_at)).all() == [None, None]


def test_reply_leaves_from_the_sim_she_texted(client, sessions, sims, fake):
    _, second = sims
    text = event("sms:received", device_id=fake.device_id, messageId="m1",
                 phoneNumber=MEMBER, sender=MEMBER, simNumber=2, message="HD",
                 receivedAt="2026-12-01T10:00:00.000+07:00")
    assert android_post(client, text, secret=PHONE_KEY).status_code == 204
    handle_sms(client.application)

    with sessions() as s:
        inbound = s.scalar(select(Message).where(Message.direction == "in"))
        reply = s.scalar(select(Message).where(Message.direction == "out"))
    assert inbound.device_id == second
    assert reply.device_id == second  # a Viettel number, yet not the Viettel SIM 1

    jobs.drain_outbox(rt(client), clock.utcnow())
    sent = fake.last.json
    assert (sent["deviceId"], sent["simNumber"]) == (fake.device_id, 2)
    assert sent["phoneNumbers"] == [MEMBER]


def sent_on_the_phone(sessions, fake, parts=2):
    """An outbound message the phone has taken (Pending there), as the drain leaves it."""
    gw = AndroidGateway(fake.base_url, "hl", "pw", timeout=0.5)
    result = gw.send_sms(MEMBER, "x", options=SendOptions(message_id="hl-1"))
    gw.close()
    now = clock.utcnow()
    with session_scope(sessions) as s:
        person = create_person(s, now, phone=MEMBER)
        msg = Message(direction="out", gateway="android", external_id=result.external_id,
                      phone=MEMBER, body="x", status=MessageStatus.SENT, kind=Kind.NORMAL,
                      segments=parts, created_at=now, sent_at=now, person_id=person.id)
        s.add(msg)
        s.flush()
        return msg.id


def status_of(sessions, message_id):
    with sessions() as s:
        return s.get(Message, message_id).status


class TestMultipart:
    def report(self, client, kind, event_id, **payload):
        body = event(kind, device_id="phone", event_id=event_id, messageId="hl-1",
                     phoneNumber=MEMBER, recipient=MEMBER, simNumber=1, **payload)
        assert android_post(client, body).status_code == 204

    @pytest.fixture
    def settings(self, settings):
        from tests.sms.test_webhooks import SECRET

        return settings.replace(android_webhook_secret=SECRET)

    def test_delivered_only_when_every_part_is(self, client, sessions, fake):
        mid = sent_on_the_phone(sessions, fake, parts=1)
        self.report(client, "sms:sent", "e-sent", partsCount=3)
        self.report(client, "sms:delivered", "e-d1")
        self.report(client, "sms:delivered", "e-d1")  # the app retried the same event
        self.report(client, "sms:delivered", "e-d2")
        assert status_of(sessions, mid) == MessageStatus.SENT
        with sessions() as s:
            assert s.get(Message, mid).segments == 3  # the phone's count
        self.report(client, "sms:delivered", "e-d3")
        assert status_of(sessions, mid) == MessageStatus.DELIVERED

    def test_reports_before_the_sent_event_count_too(self, client, sessions, fake):
        mid = sent_on_the_phone(sessions, fake, parts=2)
        self.report(client, "sms:delivered", "e-d1")
        self.report(client, "sms:delivered", "e-d2")
        assert status_of(sessions, mid) == MessageStatus.DELIVERED

    def test_one_failed_part_fails_the_message(self, client, sessions, fake):
        mid = sent_on_the_phone(sessions, fake, parts=2)
        self.report(client, "sms:delivered", "e-d1")
        self.report(client, "sms:failed", "e-f2", reason="RESULT_ERROR_GENERIC_FAILURE")
        self.report(client, "sms:delivered", "e-d3")  # a late report moves nothing back
        with sessions() as s:
            msg = s.get(Message, mid)
        assert msg.status == MessageStatus.FAILED
        assert msg.error_message == "RESULT_ERROR_GENERIC_FAILURE"


def test_twilio_partially_delivered_is_not_delivered(client, sessions):
    now = clock.utcnow()
    with session_scope(sessions) as s:
        s.add(Message(direction="out", gateway="twilio", external_id="SM" + "b" * 32,
                      phone=MEMBER, body="x", status=MessageStatus.SENT, segments=2,
                      created_at=now, sent_at=now))
    form = {"MessageSid": "SM" + "b" * 32, "MessageStatus": "partially_delivered"}
    assert signed_post(client, "/sms/status", form).status_code == 204
    with sessions() as s:
        msg = s.scalar(select(Message))
    assert msg.status == MessageStatus.UNDELIVERED
    assert "partially delivered" in msg.error_message


def test_huy_cancels_what_the_phone_still_holds(client, sessions, sims, fake):
    mid = sent_on_the_phone(sessions, fake)
    assert fake.state_of("hl-1") == "Pending"
    huy = event("sms:received", device_id=fake.device_id, messageId="m2",
                phoneNumber=MEMBER, sender=MEMBER, simNumber=1, message="HUY",
                receivedAt="2026-12-01T10:00:00.000+07:00")
    assert android_post(client, huy, secret=PHONE_KEY).status_code == 204
    assert fake.cancelled == []  # the webhook never talks to the gateway

    handle_sms(client.application)
    assert fake.cancelled == []  # nor does the handler: it only marks the message
    assert jobs.cancel_at_gateway(rt(client), clock.utcnow()) == 1

    assert fake.cancelled == ["hl-1"] and fake.state_of("hl-1") == "Cancelled"
    with sessions() as s:
        msg = s.get(Message, mid)
    assert msg.status == MessageStatus.CANCELLED and msg.cancel_requested_at is None
    assert jobs.cancel_at_gateway(rt(client), clock.utcnow()) == 0


def test_huy_after_the_phone_sent_it_only_clears_the_mark(client, sessions, sims, fake):
    mid = sent_on_the_phone(sessions, fake)
    fake.set_state("hl-1", "Sent")
    with session_scope(sessions) as s:
        outbox.opt_out(s, s.get(Message, mid).person, clock.utcnow())
    assert jobs.cancel_at_gateway(rt(client), clock.utcnow()) == 0
    with sessions() as s:
        msg = s.get(Message, mid)
    assert msg.status == MessageStatus.SENT and msg.cancel_requested_at is None


def test_healthz_shows_each_sim_and_counts_the_silent(client, sessions, sims):
    from datetime import timedelta

    first, _ = sims
    with session_scope(sessions) as s:
        s.get(GatewayDevice, first).last_seen_at = clock.utcnow() - timedelta(minutes=30)
    body = client.get("/healthz").get_json()
    assert body["gateway_devices_silent"] == 1
    by_id = {d["id"]: d for d in body["gateway_devices"]}
    assert by_id[first]["healthy"] is False and by_id[first]["last_seen_age_s"] >= 1800
    assert "webhook_secret" not in by_id[first]  # never the phone's key


def test_a_cancelled_report_is_cancelled_not_failed(client, sessions, sims, fake):
    mid = sent_on_the_phone(sessions, fake)
    body = event("sms:cancelled", device_id=fake.device_id, messageId="hl-1",
                 phoneNumber=MEMBER, recipient=MEMBER, simNumber=1)
    assert android_post(client, body, secret=PHONE_KEY).status_code == 204
    assert status_of(sessions, mid) == MessageStatus.CANCELLED


@pytest.mark.parametrize("device_id", ["\ud800", "a\x00b", "x" * 65, 42, None])
def test_an_unusable_device_id_is_refused_without_a_500(client, sims, device_id):
    resp = android_post(client, {"event": "system:ping", "deviceId": device_id,
                                 "payload": {}}, secret=PHONE_KEY)
    assert resp.status_code == 403  # not a phone whose key we have
