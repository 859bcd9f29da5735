"""TwilioGateway against a local fake of Twilio's REST API, with the real twilio client."""


import pytest

from hotline.gateways.base import GatewayError
from hotline.gateways.twilio import BaseUrlHttpClient, TwilioGateway
from tests.conftest import AUTH_TOKEN, TWILIO_SID
from tests.fakes.twilio_server import FakeTwilio
from tests.hotline.gateways.transport import (
    check_dropped_connection_is_transient,
    check_slow_response_times_out_quickly,
)

SID, TOKEN = TWILIO_SID, AUTH_TOKEN
FROM = "+15005550006"
TO = "+84912345678"
MESSAGES = f"/2010-04-01/Accounts/{SID}/Messages.json"
CALLS = f"/2010-04-01/Accounts/{SID}/Calls.json"


@pytest.fixture
def gateway(fake_twilio):
    return TwilioGateway(SID, TOKEN, FROM, api_base_url=fake_twilio.url, timeout=0.5)


def test_send_sms_posts_the_message(fake_twilio, gateway):
    result = gateway.send_sms(
        TO, "Chào chị, họp nhóm 9 giờ", status_callback="https://h/sms/status"
    )

    req = fake_twilio.last
    assert (req.method, req.path) == ("POST", MESSAGES)
    assert req.auth == (SID, TOKEN)
    assert req.form == {
        "To": TO,
        "From": FROM,
        "Body": "Chào chị, họp nhóm 9 giờ",
        "StatusCallback": "https://h/sms/status",
    }
    assert result.external_id == fake_twilio.messages[0]["sid"]
    assert result.external_id.startswith("SM") and len(result.external_id) == 34
    assert result.status == "queued"


def test_send_sms_without_callback_sends_no_callback_field(fake_twilio, gateway):
    gateway.send_sms(TO, "hi")
    assert "StatusCallback" not in fake_twilio.last.form


def test_place_call_posts_url_and_status_events(fake_twilio, gateway):
    result = gateway.place_call(
        TO, url="https://h/ivr/outbound", status_callback="https://h/ivr/status"
    )

    req = fake_twilio.last
    assert (req.method, req.path) == ("POST", CALLS)
    assert req.auth == (SID, TOKEN)
    assert req.form["To"] == TO
    assert req.form["From"] == FROM
    assert req.form["Url"] == "https://h/ivr/outbound"
    assert req.form["StatusCallback"] == "https://h/ivr/status"
    assert req.form["Timeout"] == "30"
    events = req.form_lists["StatusCallbackEvent"]
    assert events == ["initiated", "ringing", "answered", "completed"]
    assert result.external_id == fake_twilio.calls[0]["sid"]
    assert result.external_id.startswith("CA")
    assert result.status == "queued"


@pytest.mark.parametrize(("status", "code"), [(500, "20500"), (503, "20503"), (429, "20429")])
def test_server_errors_and_rate_limits_are_transient(fake_twilio, gateway, status, code):
    fake_twilio.fail_next(status=status)
    with pytest.raises(GatewayError) as caught:
        gateway.send_sms(TO, "hi")
    assert caught.value.transient
    assert caught.value.code == code
    # the next request goes through
    assert gateway.send_sms(TO, "hi").status == "queued"


def test_error_code_20429_is_transient_whatever_the_status(fake_twilio, gateway):
    fake_twilio.fail_next(status=400, code=20429)
    with pytest.raises(GatewayError) as caught:
        gateway.send_sms(TO, "hi")
    assert caught.value.transient and caught.value.code == "20429"


def test_non_json_5xx_is_transient(fake_twilio, gateway):
    fake_twilio.fail_next(status=502, raw=b"<html>Bad Gateway</html>")
    with pytest.raises(GatewayError) as caught:
        gateway.send_sms(TO, "hi")
    assert caught.value.transient and caught.value.code == "502"


@pytest.mark.parametrize("code", [21211, 21614, 21610])
def test_recipient_errors_are_permanent_with_the_code(fake_twilio, gateway, code):
    fake_twilio.fail_next(status=400, code=code)
    with pytest.raises(GatewayError) as caught:
        gateway.send_sms(TO, "hi")
    assert not caught.value.transient
    assert caught.value.code == str(code)
    assert str(caught.value)


def test_other_client_errors_are_permanent():
    with FakeTwilio(account_sid=SID, auth_token=TOKEN) as fake_twilio:
        wrong = TwilioGateway(SID, "wrong-token", FROM, api_base_url=fake_twilio.url, timeout=0.5)
        with pytest.raises(GatewayError) as caught:
            wrong.send_sms(TO, "hi")
    assert not caught.value.transient
    assert caught.value.code == "20003"


def test_unreadable_success_is_transient(fake_twilio, gateway):
    fake_twilio.fail_next(status=201, raw=b"<html>captive portal</html>")
    with pytest.raises(GatewayError) as caught:
        gateway.send_sms(TO, "hi")
    assert caught.value.transient and caught.value.code == "bad_response"


def test_place_call_asks_for_answering_machine_detection_only_when_told(fake_twilio, gateway):
    gateway.place_call(TO, url="https://h/ivr/outbound")
    assert "MachineDetection" not in fake_twilio.last.form
    gateway.place_call(TO, url="https://h/ivr/notice", machine_detection="DetectMessageEnd")
    assert fake_twilio.last.form["MachineDetection"] == "DetectMessageEnd"
    # The fake takes only Twilio's documented values, as Twilio does.
    with pytest.raises(GatewayError) as caught:
        gateway.place_call(TO, url="https://h/ivr/notice", machine_detection="Sometimes")
    assert not caught.value.transient and len(fake_twilio.calls) == 2


def test_call_errors_are_mapped_too(fake_twilio, gateway):
    fake_twilio.fail_next(status=500)
    with pytest.raises(GatewayError) as caught:
        gateway.place_call(TO, url="https://h/ivr/outbound")
    assert caught.value.transient


def test_slow_response_times_out_quickly_as_transient(fake_twilio, gateway):
    check_slow_response_times_out_quickly(fake_twilio, gateway)


def test_dropped_connection_is_transient(fake_twilio, gateway):
    check_dropped_connection_is_transient(fake_twilio, gateway)
    assert len(fake_twilio.requests) == 1  # not retried behind our back


def test_refused_connection_is_transient():
    with FakeTwilio() as fake_twilio:
        url = fake_twilio.url
    gateway = TwilioGateway(SID, TOKEN, FROM, api_base_url=url, timeout=0.5)
    with pytest.raises(GatewayError) as caught:
        gateway.send_sms(TO, "hi")
    assert caught.value.transient and caught.value.code == "connection"


def test_base_url_rewrite_keeps_path_and_query():
    client = BaseUrlHttpClient("http://127.0.0.1:9/twilio/", timeout=1)
    assert (
        client.rewrite("https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json?Page=2")
        == "http://127.0.0.1:9/twilio/2010-04-01/Accounts/AC1/Calls.json?Page=2"
    )
    assert client.rewrite("https://api.dublin.ie1.twilio.com/x") == "http://127.0.0.1:9/twilio/x"
    assert client.rewrite("https://example.org/x") == "https://example.org/x"


def test_default_base_url_uses_the_plain_client():
    gateway = TwilioGateway(SID, TOKEN, FROM)
    assert not isinstance(gateway.client.http_client, BaseUrlHttpClient)
    assert gateway.client.http_client.timeout == 10.0


def test_missing_credentials_fail_fast():
    with pytest.raises(ValueError):
        TwilioGateway("", TOKEN, FROM)
