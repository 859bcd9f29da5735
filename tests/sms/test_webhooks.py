"""The gateway webhooks: signatures, stored once, status callbacks, bad input."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from hotline.gateways.android_events import sign_webhook
from hotline.models import Message, MessageStatus
from tests.conftest import AUTH_TOKEN, PUBLIC_URL
from tests.factories import handle_sms

SECRET = "android-secret"


@pytest.fixture
def settings(settings):
    return settings.replace(twilio_auth_token=AUTH_TOKEN, twilio_account_sid="AC" + "0" * 32,
                            android_webhook_secret=SECRET)


def signed_post(client, path, form, token=AUTH_TOKEN):
    signature = RequestValidator(token).compute_signature(PUBLIC_URL + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def android_post(client, payload, secret=SECRET, timestamp=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    ts = timestamp or str(int(time.time()))
    return client.post("/sms/android", data=body, content_type="application/json",
                       headers={"X-Timestamp": ts, "X-Signature": sign_webhook(secret, body, ts)})


def count(db):
    """Inbound messages stored (replies are outbound rows and not counted)."""
    return db.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))


def inbound(sid="SM" + "a" * 32, body="Xin chào", sender="+84912345678"):
    return {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender,
            "To": "+15005550006", "Body": body, "NumMedia": "0"}


class TestTwilioInbound:
    def test_signed_message_is_stored_nfc_as_received(self, client, db):
        nfd = "Hu\u0309y"  # "Hủy" typed with a combining hook
        resp = signed_post(client, "/sms/inbound", inbound(body=nfd))
        assert resp.status_code == 200 and b"<Response" in resp.data
        msg = db.scalar(select(Message))
        assert msg.body == "H\u1ee7y" and msg.phone == "+84912345678"
        assert msg.status == MessageStatus.RECEIVED and msg.handled_at is None

    def test_stored_message_is_acted_on_by_the_handler_job(self, client, db):
        assert signed_post(client, "/sms/inbound", inbound(body="BHYT")).status_code == 200
        assert db.scalar(select(Message)).person_id is None  # the webhook only stored it
        assert handle_sms(client.application) == 1
        db.expire_all()
        msg, reply = db.scalars(select(Message).order_by(Message.id)).all()
        assert msg.command == "BHYT" and msg.handled_at is not None
        assert msg.person_id is not None and reply.person_id == msg.person_id
        assert reply.direction == "out" and reply.phone == "+84912345678"
        assert handle_sms(client.application) == 0  # handled once

    def test_a_message_is_stored_by_one_statement_with_every_column_as_before(self, client, db):
        """The webhook's store is one ``INSERT`` run on the driver connection, without a
        SQLAlchemy ``Connection`` around it (``hotline.db.DirectWrite``); the row is what the
        ORM path stored: defaults, the UTC time, the normalised sender, not handled; a retry
        is looked up, not stored."""
        from sqlalchemy import event

        from hotline import clock

        engine = client.application.extensions["hotline"].engine
        seen: list[str] = []
        connections: list[object] = []
        listen = lambda conn, cursor, statement, *args: seen.append(statement)  # noqa: E731
        connected = connections.append
        event.listen(engine, "before_cursor_execute", listen)
        event.listen(engine, "engine_connect", connected)
        try:
            before = clock.utcnow()
            assert signed_post(client, "/sms/inbound",
                               inbound(sender="0912 345 678")).status_code == 200
            after = clock.utcnow()
            first, made = list(seen), len(connections)
            assert signed_post(client, "/sms/inbound", inbound()).status_code == 200  # retried
        finally:
            event.remove(engine, "before_cursor_execute", listen)
            event.remove(engine, "engine_connect", connected)
        assert len(first) == 1 and first[0].lstrip().upper().startswith("INSERT INTO MESSAGES")
        assert made == 0  # no Connection, no isolation level switched and back
        assert len(seen) > 1  # the retry: the insert did nothing, the first row is looked up
        msg = db.scalar(select(Message))
        assert count(db) == 1 and msg.phone == "+84912345678" and msg.body == "Xin chào"
        assert (msg.direction, msg.gateway, msg.external_id) == ("in", "twilio", "SM" + "a" * 32)
        assert (msg.status, msg.kind, msg.attempts, msg.segments) == ("received", "in", 0, 1)
        assert msg.lane == Message.lane.default.arg and msg.idempotency_key is None
        assert not msg.maybe_duplicate and not msg.needs_staff and msg.handled_at is None
        assert before <= msg.created_at <= after and msg.device_id is None

    def test_retried_webhook_is_stored_once(self, client, db):
        for _ in range(3):
            assert signed_post(client, "/sms/inbound", inbound()).status_code == 200
        assert count(db) == 1

    @pytest.mark.parametrize("headers", [{}, {"X-Twilio-Signature": "Zm9yZ2Vk"}])
    def test_forged_or_missing_signature_writes_nothing(self, client, db, headers):
        resp = client.post("/sms/inbound", data=inbound(), headers=headers)
        assert resp.status_code == 403
        assert count(db) == 0

    def test_signature_for_another_url_is_refused(self, client, db):
        form = inbound()
        sig = RequestValidator(AUTH_TOKEN).compute_signature("https://evil.example/sms/inbound",
                                                             form)
        resp = client.post("/sms/inbound", data=form, headers={"X-Twilio-Signature": sig})
        assert resp.status_code == 403 and count(db) == 0

    def test_signature_for_the_url_with_its_port_still_passes(self, client, db):
        """The signature is computed once for the public URL; twilio's other form of it
        (with the default port, which some of Twilio's signers use) is still accepted."""
        form = inbound()
        with_port = PUBLIC_URL.replace("https://hotline.example.org",
                                       "https://hotline.example.org:443")
        assert with_port != PUBLIC_URL
        sig = RequestValidator(AUTH_TOKEN).compute_signature(with_port + "/sms/inbound", form)
        resp = client.post("/sms/inbound", data=form, headers={"X-Twilio-Signature": sig})
        assert resp.status_code == 200 and count(db) == 1

    def test_tampered_body_is_refused(self, client, db):
        form = inbound()
        sig = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/sms/inbound", form)
        form["Body"] = "something else"
        resp = client.post("/sms/inbound", data=form, headers={"X-Twilio-Signature": sig})
        assert resp.status_code == 403 and count(db) == 0

    def test_missing_from_is_a_clear_400(self, client, db):
        form = inbound()
        del form["From"]
        assert signed_post(client, "/sms/inbound", form).status_code == 400
        assert count(db) == 0

    def test_sender_that_is_no_phone_number_is_kept(self, client, db):
        assert signed_post(client, "/sms/inbound", inbound(sender="VIETTEL")).status_code == 200
        msg = db.scalar(select(Message))
        assert msg.phone == "VIETTEL" and msg.person_id is None


class TestTwilioStatus:
    def test_status_callbacks_move_forward_only(self, client, db):
        from hotline.services.outbox import Outbox
        from tests.conftest import at

        msg = Outbox(db, gateway="twilio").enqueue(at("2026-12-01 10:00"), "+84912345678", "x")
        msg.external_id, msg.status = "SM" + "b" * 32, MessageStatus.SENT
        db.commit()
        for status in ("delivered", "sent"):
            form = {"MessageSid": msg.external_id, "MessageStatus": status}
            assert signed_post(client, "/sms/status", form).status_code == 204
        db.refresh(msg)
        assert msg.status == MessageStatus.DELIVERED

    def test_forged_status_changes_nothing(self, client, db):
        resp = client.post("/sms/status", data={"MessageSid": "SMx", "MessageStatus": "failed"})
        assert resp.status_code == 403


class TestAndroid:
    def event(self, mid="abc123", text="KN bi thu hang", phone="+84912345678"):
        return {"deviceId": "dev1", "event": "sms:received", "id": "evt-" + mid,
                "webhookId": "wh1",
                "payload": {"messageId": mid, "message": text, "phoneNumber": phone,
                            "simNumber": 1, "receivedAt": "2026-12-01T10:00:00.000+07:00"}}

    def test_signed_event_is_stored_once(self, client, db):
        for _ in range(2):
            assert android_post(client, self.event()).status_code == 204
        msg = db.scalar(select(Message))
        assert (msg.gateway, msg.external_id) == ("android", "evt-abc123")
        assert msg.body == "KN bi thu hang"
        assert count(db) == 1

    def test_resend_with_new_id_within_seconds_counts_once(self, client, db):
        android_post(client, self.event(mid="one"))
        android_post(client, self.event(mid="two"))
        assert count(db) == 1

    @pytest.mark.parametrize("secret, age", [("wrong", 0), (SECRET, 3600)])
    def test_bad_signature_or_replay_is_refused(self, client, db, secret, age):
        resp = android_post(client, self.event(), secret=secret,
                            timestamp=str(int(time.time()) - age))
        assert resp.status_code == 403 and count(db) == 0

    def test_broken_json_is_a_clear_400(self, client, db):
        assert android_post(client, None, raw=b"{not json").status_code == 400
        assert count(db) == 0

    def sent_message(self, db, external_id):
        from hotline.services.outbox import Outbox
        from tests.conftest import at

        msg = Outbox(db, gateway="android").enqueue(at("2026-12-01 10:00"), "+84912345678", "x")
        msg.external_id, msg.status = external_id, MessageStatus.SENT
        db.commit()
        return msg

    @pytest.mark.parametrize("events, final, reason", [
        (["sms:sent", "sms:delivered"], MessageStatus.DELIVERED, None),
        (["sms:delivered", "sms:sent"], MessageStatus.DELIVERED, None),
        (["sms:failed"], MessageStatus.FAILED, "RESULT_ERROR_GENERIC_FAILURE"),
    ])
    def test_delivery_reports_move_outbound_messages(self, client, db, events, final, reason):
        msg = self.sent_message(db, "mid-42")
        for name in events:
            data = {"messageId": "mid-42", "phoneNumber": "+84912345678"}
            if name == "sms:failed":
                data["reason"] = reason
            payload = {"event": name, "id": f"evt-{name}", "deviceId": "d", "payload": data}
            assert android_post(client, payload).status_code == 204
        db.refresh(msg)
        assert (msg.status, msg.error_message) == (final, reason)
        assert count(db) == 0  # delivery reports are not inbound messages

    def test_other_events_are_acknowledged_and_ignored(self, client, db):
        payload = {"event": "sms:sent", "payload": {"messageId": "x"}}
        assert android_post(client, payload).status_code == 204
        assert count(db) == 0
