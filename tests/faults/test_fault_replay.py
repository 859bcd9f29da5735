"""Webhooks replayed, reordered and raced: one record each, the right final state.

Twilio retries a webhook it timed out on, the Android app resends events, and status
callbacks overtake one another. Orders are shuffled with fixed seeds.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter

import pytest
from sqlalchemy import select

from hotline.models import Direction, Message, MessageStatus
from hotline.services.outbox import Outbox
from tests.conftest import at
from tests.factories import handle_sms
from tests.faults.support import (
    android_post,
    census,
    inbound_form,
    signed_post,
    sms_received,
    webhook_settings,
)

SEEDS = [1, 7, 42]


@pytest.fixture
def settings(settings):
    return webhook_settings(settings)


def messages(db, direction: str) -> list[Message]:
    db.expire_all()
    return db.scalars(select(Message).where(Message.direction == direction)
                      .order_by(Message.id)).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_same_message_sid_five_times_among_others_is_stored_and_answered_once(
    client, db, seed
):
    rng = random.Random(seed)
    sids = {f"+8491234{i:04d}": "SM" + uuid.uuid4().hex for i in range(6)}
    repeated = next(iter(sids))
    # The repeated one five times, two others twice, the rest once, all shuffled.
    posts = [repeated] * 5 + list(sids)[1:3] * 2 + list(sids)[1:]
    rng.shuffle(posts)
    for sender in posts:
        form = inbound_form(sids[sender], body="BHYT", sender=sender)
        assert signed_post(client, "/sms/inbound", form).status_code == 200
    handle_sms(client.application)

    stored = messages(db, Direction.IN)
    assert sorted(m.external_id for m in stored) == sorted(sids.values())
    assert all(m.handled_at is not None and m.command == "BHYT" for m in stored)
    answered = Counter(m.phone for m in messages(db, Direction.OUT))
    assert answered == Counter(list(sids))  # one help reply per number, not per delivery


@pytest.mark.parametrize("seed", SEEDS)
def test_android_events_replayed_and_resent_are_stored_once(client, db, seed):
    rng = random.Random(seed)
    events = [sms_received(f"evt-{seed}-{i}", text=f"Toi can giup {i}",
                           phone=f"+8490300{i:04d}") for i in range(5)]
    # The app's retries repeat the event id; its resends of the same text get a new id.
    resend = {**events[0], "id": f"evt-{seed}-resend"}
    posts = events * 3 + [resend, resend]
    rng.shuffle(posts)
    for event in posts:
        assert android_post(client, event).status_code == 204
    stored = messages(db, Direction.IN)
    assert len(stored) == 5
    assert {m.body for m in stored} == {e["payload"]["message"] for e in events}


# Callbacks each message gets from Twilio, in the order Twilio sends them, and where it ends.
LIVES = [
    (["queued", "sending", "sent", "delivered"], MessageStatus.DELIVERED),
    (["queued", "sent", "undelivered"], MessageStatus.UNDELIVERED),
    (["queued", "failed"], MessageStatus.FAILED),
    (["accepted", "queued", "sending", "sent"], MessageStatus.SENT),
    (["sent", "delivered", "read"], MessageStatus.DELIVERED),
]


@pytest.mark.parametrize("seed", SEEDS)
def test_status_callbacks_shuffled_and_repeated_end_in_the_right_state(client, db, seed):
    rng = random.Random(seed)
    now = at("2026-12-01 10:00")
    box = Outbox(db, gateway="twilio")
    rows = []
    for i, (_, final) in enumerate(LIVES * 2):
        msg = box.enqueue(now, f"+8491200{i:04d}", f"tin {i}")
        msg.external_id, msg.status, msg.sent_at = "SM" + uuid.uuid4().hex, "sent", now
        rows.append((msg, final))
    db.commit()
    callbacks = [
        {"MessageSid": msg.external_id, "MessageStatus": status,
         **({"ErrorCode": "30005"} if status in ("undelivered", "failed") else {})}
        for (msg, _), (lives, _) in zip(rows, LIVES * 2, strict=True)
        for status in lives
    ]
    callbacks *= 2  # every callback delivered twice
    rng.shuffle(callbacks)
    for form in callbacks:
        assert signed_post(client, "/sms/status", form).status_code == 204

    db.expire_all()
    for msg, final in rows:
        db.refresh(msg)
        assert msg.status == final, (msg.external_id, msg.status, final)
        assert (msg.delivered_at is not None) == (final == MessageStatus.DELIVERED)
        if final in (MessageStatus.UNDELIVERED, MessageStatus.FAILED):
            assert msg.error_code == "30005"
    assert len(messages(db, Direction.OUT)) == len(rows)


def test_callback_for_an_unknown_sid_writes_nothing(client, sessions):
    before = census(sessions)
    form = {"MessageSid": "SM" + "9" * 32, "MessageStatus": "delivered"}
    assert signed_post(client, "/sms/status", form).status_code == 204
    assert census(sessions) == before


def test_the_same_webhook_racing_on_many_workers_is_stored_once(app, db):
    """Twilio's retry arriving while the first delivery is still being handled. On SQLite a
    loser may get 503 (the write lock); Twilio's next retry then finds the stored row."""
    form = inbound_form("SM" + uuid.uuid4().hex, body="BHYT")
    workers = 8
    barrier = threading.Barrier(workers)
    codes: list[int] = []
    errors: list[BaseException] = []

    def deliver():
        client = app.test_client()
        try:
            barrier.wait(timeout=10)
            codes.append(signed_post(client, "/sms/inbound", form).status_code)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(codes) == workers
    print(f"\nconcurrent deliveries answered: {dict(Counter(codes))}")
    assert set(codes) <= {200, 503}, codes
    assert 200 in codes
    for _ in range(codes.count(503)):  # Twilio's retries
        assert signed_post(app.test_client(), "/sms/inbound", form).status_code == 200
    handle_sms(app)
    [stored] = messages(db, Direction.IN)
    assert stored.handled_at is not None
    assert len(messages(db, Direction.OUT)) == 1


def test_two_handler_runs_at_once_act_on_each_message_once(app, client, db):
    """The scheduler's job and the simulator (``make run`` serves both in one process) may
    handle at the same moment: each stored message is claimed by one of them."""
    senders = [f"+8491235{i:04d}" for i in range(12)]
    for sender in senders:
        form = inbound_form("SM" + uuid.uuid4().hex, body="BHYT", sender=sender)
        assert signed_post(client, "/sms/inbound", form).status_code == 200
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run():
        try:
            barrier.wait(timeout=10)
            handle_sms(app)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert all(m.handled_at is not None and m.command == "BHYT"
               for m in messages(db, Direction.IN))
    assert sorted(m.phone for m in messages(db, Direction.OUT)) == senders
