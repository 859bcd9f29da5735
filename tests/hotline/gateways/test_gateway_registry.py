"""Gateway registry: settings pick the adapter."""

import pytest

from hotline.config import Settings
from hotline.gateways import GATEWAYS, sms_gateway, voice_gateway
from hotline.gateways.android import AndroidGateway
from hotline.gateways.simulator import SimulatorGateway
from hotline.gateways.twilio import BaseUrlHttpClient, TwilioGateway

TWILIO = dict(
    twilio_account_sid="AC" + "1" * 32,
    twilio_auth_token="token",
    twilio_from="+15005550006",
    twilio_api_base_url="http://127.0.0.1:9",
    gateway_timeout=2.5,
)


def test_registry_names_match_the_settings_choices():
    assert set(GATEWAYS) == {"simulator", "twilio", "android"}


def test_simulator_is_the_default():
    settings = Settings()
    assert isinstance(sms_gateway(settings), SimulatorGateway)
    assert isinstance(voice_gateway(settings), SimulatorGateway)


def test_twilio_from_settings():
    settings = Settings(sms_gateway="twilio", voice_gateway="twilio", **TWILIO)
    gateway = voice_gateway(settings)
    assert isinstance(gateway, TwilioGateway) and gateway.name == "twilio"
    assert isinstance(sms_gateway(settings), TwilioGateway)
    http = gateway.client.http_client
    assert isinstance(http, BaseUrlHttpClient)
    assert http.base_url == "http://127.0.0.1:9"
    assert http.timeout == 2.5
    assert gateway.from_ == "+15005550006"


def test_android_from_settings():
    settings = Settings(
        sms_gateway="android",
        android_url="http://127.0.0.1:9/3rdparty/v1/",
        android_login="hotline",
        android_password="pw",
        gateway_timeout=3.0,
    )
    gateway = sms_gateway(settings)
    assert isinstance(gateway, AndroidGateway) and gateway.name == "android"
    assert gateway.base_url == "http://127.0.0.1:9/3rdparty/v1"


def test_mixed_gateways():
    settings = Settings(
        sms_gateway="android", voice_gateway="twilio", android_password="token", **TWILIO
    )
    assert isinstance(sms_gateway(settings), AndroidGateway)
    assert isinstance(voice_gateway(settings), TwilioGateway)


def test_unknown_gateway_is_an_error():
    with pytest.raises(ValueError, match="unknown gateway"):
        sms_gateway(Settings(sms_gateway="carrier-pigeon"))


def test_twilio_without_credentials_fails_fast():
    with pytest.raises(ValueError):
        sms_gateway(Settings(sms_gateway="twilio"))
