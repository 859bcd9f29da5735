"""AndroidGateway against a local fake of the SMS Gateway for Android API; webhook helpers."""

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import pytest
from android_sms_gateway.enums import WebhookEvent

from hotline.gateways.android import AndroidGateway
from hotline.gateways.android_events import (
    SMS_RECEIVED,
    STATUS_EVENTS,
    InboundSms,
    parse_webhook,
    sign_webhook,
    verify_webhook,
)
from hotline.gateways.base import GatewayError, SendOptions
from tests.conftest import ANDROID_LOGIN, ANDROID_PASSWORD
from tests.fakes.android_server import FakeAndroid
from tests.hotline.gateways.transport import (
    check_dropped_connection_is_transient,
    check_slow_response_times_out_quickly,
)

LOGIN, PASSWORD = ANDROID_LOGIN, ANDROID_PASSWORD
TO = "+84912345678"


@pytest.fixture
def gateway(fake_android):
    return AndroidGateway(fake_android.base_url, LOGIN, PASSWORD, timeout=0.5)


def test_send_sms_posts_the_message(fake_android, gateway):
    result = gateway.send_sms(TO, "Chào chị", status_callback="ignored")

    req = fake_android.last
    assert (req.method, req.path) == ("POST", "/3rdparty/v1/messages")
    assert req.auth == (LOGIN, PASSWORD)
    assert req.json["phoneNumbers"] == [TO]
    assert req.json["textMessage"] == {"text": "Chào chị"}
    assert req.json["withDeliveryReport"] is True
    assert result.external_id == fake_android.sent[0]["id"]
    assert result.status == "pending"


def test_send_carries_our_id_expiry_device_and_sim(fake_android, gateway):
    until = datetime(2026, 12, 2, 14, 0, 30, 123456, tzinfo=UTC)
    options = SendOptions(message_id="hl-abc", valid_until=until, device_id=fake_android.device_id,
                          sim_number=2)

    result = gateway.send_sms(TO, "hi", options=options)

    sent = fake_android.last.json
    assert (sent["id"], sent["deviceId"], sent["simNumber"]) == (
        "hl-abc", fake_android.device_id, 2)
    assert datetime.fromisoformat(sent["validUntil"]) == until.replace(microsecond=0)
    assert "ttl" not in sent  # the API refuses both at once
    assert result.external_id == "hl-abc"


def test_repeated_id_answered_409_is_accepted_not_failed(fake_android, gateway):
    options = SendOptions(message_id="hl-once")
    first = gateway.send_sms(TO, "hi", options=options)

    again = gateway.send_sms(TO, "hi", options=options)  # the first answer was "lost"

    assert fake_android.requests[-1].json["id"] == "hl-once"
    assert len(fake_android.sent) == 1  # the phone holds one message, not two
    assert again.external_id == first.external_id == "hl-once"
    assert again.status == "pending"


def test_409_without_our_id_is_an_error(fake_android, gateway):
    fake_android.fail_next(status=409, message="conflict")
    with pytest.raises(GatewayError) as caught:
        gateway.send_sms(TO, "hi")
    assert caught.value.code == "409" and not caught.value.transient


def test_cancel_a_pending_message(fake_android, gateway):
    sent = gateway.send_sms(TO, "hi", options=SendOptions(message_id="hl-stop"))

    assert gateway.cancel(sent.external_id) is True

    assert fake_android.last.method == "DELETE"
    assert fake_android.state_of("hl-stop") == "Cancelled"


def test_cancel_after_sending_or_unknown_is_false(fake_android, gateway):
    gateway.send_sms(TO, "hi", options=SendOptions(message_id="hl-gone"))
    fake_android.set_state("hl-gone", "Sent")

    assert gateway.cancel("hl-gone") is False
    assert gateway.cancel("never-had-it") is False
    assert fake_android.state_of("hl-gone") == "Sent"


def test_cancel_when_the_server_fails_is_transient(fake_android, gateway):
    fake_android.fail_next(status=503)
    with pytest.raises(GatewayError) as caught:
        gateway.cancel("hl-x")
    assert caught.value.transient


def test_failed_state_is_permanent(fake_android, gateway):
    fake_android.reply_state = "Failed"
    fake_android.recipient_error = "RESULT_ERROR_GENERIC_FAILURE"
    with pytest.raises(GatewayError) as caught:
        gateway.send_sms(TO, "hi")
    assert not caught.value.transient
    assert "RESULT_ERROR_GENERIC_FAILURE" in str(caught.value)


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_rate_limits_are_transient(fake_android, gateway, status):
    fake_android.fail_next(status=status)
    with pytest.raises(GatewayError) as caught:
        gateway.send_sms(TO, "hi")
    assert caught.value.transient and caught.value.code == str(status)
    assert gateway.send_sms(TO, "hi").external_id


@pytest.mark.parametrize("status", [400, 403, 404])
def test_client_errors_are_permanent(fake_android, gateway, status):
    fake_android.fail_next(status=status, message="nope")
    with pytest.raises(GatewayError) as caught:
        gateway.send_sms(TO, "hi")
    assert not caught.value.transient and caught.value.code == str(status)
    assert "nope" in str(caught.value)


def test_wrong_password_is_permanent(fake_android):
    gateway = AndroidGateway(fake_android.base_url, LOGIN, "wrong", timeout=0.5)
    with pytest.raises(GatewayError) as caught:
        gateway.send_sms(TO, "hi")
    assert not caught.value.transient and caught.value.code == "401"


def test_slow_response_times_out_quickly_as_transient(fake_android, gateway):
    check_slow_response_times_out_quickly(fake_android, gateway)


def test_dropped_connection_is_transient(fake_android, gateway):
    check_dropped_connection_is_transient(fake_android, gateway)


def test_unreadable_success_is_transient(fake_android, gateway):
    fake_android.fail_next(status=202, raw=b"<html>captive portal</html>")
    with pytest.raises(GatewayError) as caught:
        gateway.send_sms(TO, "hi")
    assert caught.value.transient and caught.value.code == "bad_response"


def test_bearer_token_without_login():
    with FakeAndroid(password="jwt-token") as server:
        result = AndroidGateway(server.base_url, "", "jwt-token", timeout=0.5).send_sms(TO, "hi")
        assert server.last.headers["authorization"] == "Bearer jwt-token"
    assert result.status == "pending"


def test_place_call_is_refused(gateway):
    with pytest.raises(GatewayError, match="cannot place calls") as caught:
        gateway.place_call(TO, url="https://h/ivr")
    assert not caught.value.transient


# webhooks ---------------------------------------------------------------------------------

SECRET = "signing-key"
EVENT = {
    "deviceId": "ffffffffceb0b1db00000193991c27e5",
    "event": "sms:received",
    "id": "Ey6ECgOkVVFjz3CL48B8C",
    "payload": {
        "messageId": "abc123",
        "message": "DANG KY Lan",
        "phoneNumber": "+84912345678",
        "simNumber": 1,
        "receivedAt": "2025-03-14T07:29:55.000+07:00",
    },
    "webhookId": "LreFUt-Z3sSq0JufY9uWB",
}
BODY = json.dumps(EVENT, separators=(",", ":")).encode()
NOW = 1_741_912_196


def test_verify_webhook_accepts_a_good_signature():
    signature = sign_webhook(SECRET, BODY, str(NOW))
    assert verify_webhook(SECRET, BODY, str(NOW), signature, now=NOW + 10)


def test_sign_webhook_is_hmac_sha256_hex_of_body_then_timestamp():
    expected = hmac.new(b"k", b'{"a":1}' + b"1700000000", hashlib.sha256).hexdigest()
    assert sign_webhook("k", b'{"a":1}', "1700000000") == expected


@pytest.mark.parametrize("signature", ["0" * 64, "", "not hex at all ✗", "deadbeef"])
def test_verify_webhook_rejects_bad_signatures(signature):
    assert not verify_webhook(SECRET, BODY, str(NOW), signature, now=NOW)


def test_verify_webhook_rejects_a_tampered_body():
    signature = sign_webhook(SECRET, BODY, str(NOW))
    assert not verify_webhook(SECRET, BODY + b" ", str(NOW), signature, now=NOW)


def test_verify_webhook_rejects_another_key():
    signature = sign_webhook("other-key", BODY, str(NOW))
    assert not verify_webhook(SECRET, BODY, str(NOW), signature, now=NOW)


def test_verify_webhook_rejects_a_signature_for_another_timestamp():
    signature = sign_webhook(SECRET, BODY, str(NOW))
    assert not verify_webhook(SECRET, BODY, str(NOW + 1), signature, now=NOW)


@pytest.mark.parametrize("age", [301, -301, 86_400])
def test_verify_webhook_rejects_old_or_future_timestamps(age):
    signature = sign_webhook(SECRET, BODY, str(NOW))
    assert not verify_webhook(SECRET, BODY, str(NOW), signature, now=NOW + age)
    assert verify_webhook(SECRET, BODY, str(NOW), signature, now=NOW + age, tolerance=10**6)


@pytest.mark.parametrize("timestamp", ["", "soon", "1.5e9"])
def test_verify_webhook_rejects_garbage_timestamps(timestamp):
    signature = sign_webhook(SECRET, BODY, timestamp)
    assert not verify_webhook(SECRET, BODY, timestamp, signature, now=NOW)


def test_verify_webhook_without_secret_or_signature_is_false():
    signature = sign_webhook(SECRET, BODY, str(NOW))
    assert not verify_webhook("", BODY, str(NOW), signature, now=NOW)
    assert not verify_webhook(SECRET, BODY, "", signature, now=NOW)


def test_verify_webhook_uses_the_clock_by_default():
    stamp = str(int(time.time()))
    assert verify_webhook(SECRET, BODY, stamp, sign_webhook(SECRET, BODY, stamp))


def test_parse_webhook_sms_received():
    assert parse_webhook(EVENT) == InboundSms(
        external_id="Ey6ECgOkVVFjz3CL48B8C",
        phone="+84912345678",
        body="DANG KY Lan",
        received_at="2025-03-14T07:29:55.000+07:00",
        message_id="abc123",
        sim_number=1,
        device_id="ffffffffceb0b1db00000193991c27e5",
    )


@pytest.mark.parametrize("event", ["sms:sent", "sms:delivered", "sms:failed", "system:ping"])
def test_parse_webhook_ignores_other_events(event):
    assert parse_webhook({**EVENT, "event": event}) is None


def test_the_event_names_read_without_the_client_are_the_apis():
    """``android_events`` spells the event names itself (no client import in the SMS door):
    they must stay the client library's."""
    assert SMS_RECEIVED == WebhookEvent.SMS_RECEIVED.value
    assert set(STATUS_EVENTS) == {WebhookEvent.SMS_SENT.value, WebhookEvent.SMS_DELIVERED.value,
                                  WebhookEvent.SMS_FAILED.value, WebhookEvent.SMS_CANCELLED.value}


def test_parse_webhook_rejects_a_broken_sms_event():
    with pytest.raises(ValueError):
        parse_webhook({**EVENT, "payload": {"messageId": "x"}})


def test_fetch_status_reads_the_held_state(fake_android, gateway):
    gateway.send_sms(TO, "hi", options=SendOptions(message_id="hl-late"))
    assert gateway.fetch_status("hl-late") == ("pending", None)
    fake_android.set_state("hl-late", "Delivered")
    assert gateway.fetch_status("hl-late") == ("delivered", None)
    with pytest.raises(GatewayError) as caught:
        gateway.fetch_status("unknown")
    assert caught.value.code == "404" and not caught.value.transient
