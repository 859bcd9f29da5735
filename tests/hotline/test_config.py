from datetime import time

import pytest

from hotline.config import Settings


def test_from_env_reads_every_documented_variable():
    env = {
        "HOTLINE_DATABASE_URL": "postgresql+psycopg://u@h/db",
        "HOTLINE_PUBLIC_URL": "https://line.example",
        "TWILIO_ACCOUNT_SID": "AC1",
        "TWILIO_AUTH_TOKEN": "tok",
        "TWILIO_FROM": "+15005550006",
        "TWILIO_API_BASE_URL": "http://127.0.0.1:9999",
        "HOTLINE_SMS_GATEWAY": "android",
        "HOTLINE_VOICE_GATEWAY": "twilio",
        "HOTLINE_DAILY_CAP": "5",
        "HOTLINE_SEND_RATE": "2.5",
        "HOTLINE_QUIET_HOURS": "22:00-06:30",
    }
    s = Settings.from_env(env)
    assert s.database_url == env["HOTLINE_DATABASE_URL"]
    assert s.public_url == "https://line.example"
    assert (s.twilio_account_sid, s.twilio_auth_token) == ("AC1", "tok")
    assert s.twilio_from == env["TWILIO_FROM"]
    assert s.twilio_api_base_url == "http://127.0.0.1:9999"
    assert (s.sms_gateway, s.voice_gateway) == ("android", "twilio")
    assert s.daily_cap == 5 and s.send_rate == 2.5
    assert s.quiet == (time(22), time(6, 30))
    assert s.signatures_required


def test_defaults_are_simulator_and_sqlite():
    s = Settings.from_env({})
    assert s.sms_gateway == s.voice_gateway == "simulator"
    assert s.database_url.startswith("sqlite:///")
    assert not s.signatures_required


def test_env_example_documents_every_variable():
    from dataclasses import fields
    from pathlib import Path

    example = (Path(__file__).parents[2] / ".env.example").read_text()
    for f in fields(Settings):
        if "env" in f.metadata:
            assert f.metadata["env"] in example, f.metadata["env"]


def test_unknown_gateway_is_refused():
    with pytest.raises(ValueError, match="sms_gateway"):
        Settings.from_env({"HOTLINE_SMS_GATEWAY": "carrier-pigeon"})


def test_call_price_sits_beside_the_sms_price():
    assert Settings.from_env({}).call_price_vnd == 4000
    s = Settings.from_env({"HOTLINE_CALL_PRICE_VND": "2500", "HOTLINE_SMS_PRICE_VND": "300"})
    assert (s.call_price_vnd, s.sms_price_vnd) == (2500, 300)


@pytest.mark.parametrize("name", ["HOTLINE_CALL_PRICE_VND", "HOTLINE_SMS_PRICE_VND"])
def test_a_negative_price_is_refused(name):
    with pytest.raises(ValueError, match="cannot be negative"):
        Settings.from_env({name: "-1"})
