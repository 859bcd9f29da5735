"""The outbox through the real ``android_sms_gateway`` client against the local fake server."""

from __future__ import annotations

import time as time_
from datetime import datetime, time, timedelta

import pytest

from hotline.db import session_scope
from hotline.gateways.android import AndroidGateway
from hotline.models import Kind, Message, MessageStatus
from hotline.services import outbox
from hotline.services.outbox import Outbox
from tests.conftest import ANDROID_LOGIN, ANDROID_PASSWORD, at
from tests.factories import create_person

LOGIN, PASSWORD = ANDROID_LOGIN, ANDROID_PASSWORD
NOON = at("2026-12-01 12:00")  # Hanoi time, as ``at`` reads it


@pytest.fixture
def gateway(fake_android):
    gw = AndroidGateway(fake_android.base_url, LOGIN, PASSWORD, timeout=0.5)
    yield gw
    gw.close()


def queue(sessions, *, kind=Kind.REPLY, expires_at=None, **person_fields):
    with session_scope(sessions) as s:
        person = create_person(s, NOON, **person_fields)
        return Outbox(s, gateway="android").enqueue(
            NOON, person.phone, "Da nhan", kind=kind, person=person, expires_at=expires_at,
            key=f"k:{person.id}").id


def test_send_carries_our_id_and_the_expiry(sessions, settings, fake_android, gateway):
    mid = queue(sessions, expires_at=NOON + timedelta(minutes=30))

    assert outbox.drain(sessions, NOON, gateway, settings).sent == 1

    body = fake_android.last.json
    with sessions() as s:
        msg = s.get(Message, mid)
        assert body["id"] == outbox.gateway_message_id(msg) == msg.external_id
        assert msg.status == MessageStatus.SENT
    assert datetime.fromisoformat(body["validUntil"]) == NOON + timedelta(minutes=30)


def test_normal_message_is_valid_until_quiet_hours_or_the_safe_window(
        sessions, settings, fake_android, gateway):
    queue(sessions, kind=Kind.NORMAL)
    # Safe to text her only until 13:30, well before quiet hours at 21:00.
    queue(sessions, kind=Kind.NORMAL, safe_contact_start=time(8), safe_contact_end=time(13, 30))

    assert outbox.drain(sessions, NOON, gateway, settings).sent == 2

    first, second = (datetime.fromisoformat(r.json["validUntil"]) for r in fake_android.requests)
    assert first == at("2026-12-01 21:00")
    assert second == at("2026-12-01 13:30")


def test_a_reply_without_expiry_has_no_limit(sessions, settings, fake_android, gateway):
    queue(sessions)
    outbox.drain(sessions, NOON, gateway, settings)
    assert "validUntil" not in fake_android.last.json and "ttl" not in fake_android.last.json


def test_retry_after_a_lost_answer_is_409_and_counts_as_sent(sessions, settings, fake_android,
                                                            gateway):
    mid = queue(sessions)
    fake_android.delay_next(seconds=1.0)  # the phone takes the message, our client gives up waiting

    first = outbox.drain(sessions, NOON, gateway, settings)
    assert first.retried == 1
    deadline = time_.monotonic() + 3
    while not fake_android.sent and time_.monotonic() < deadline:  # the phone finishes taking it
        time_.sleep(0.02)
    assert len(fake_android.sent) == 1
    with sessions() as s:
        assert s.get(Message, mid).maybe_duplicate

    later = NOON + timedelta(minutes=5)
    assert outbox.drain(sessions, later, gateway, settings).sent == 1

    # The same id again: 409.
    assert fake_android.requests[-1].json["id"] == fake_android.sent[0]["id"]
    assert len(fake_android.sent) == 1  # one SMS on the phone, not two
    with sessions() as s:
        msg = s.get(Message, mid)
        assert msg.status == MessageStatus.SENT and msg.error_code is None
        assert msg.external_id == fake_android.sent[0]["id"]
