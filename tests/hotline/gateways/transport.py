"""What every SMS gateway client does when the transport fails, checked against its fake
(each fake has ``delay_next`` and ``drop_next``): a slow answer times out quickly and a
dropped connection is transient, so the outbox tries again later."""

from __future__ import annotations

import time

import pytest

from hotline.gateways.base import GatewayError

TO = "+84912345678"


def send_fails(gateway, to: str = TO) -> GatewayError:
    """Send one SMS through ``gateway``; the error it must raise."""
    with pytest.raises(GatewayError) as caught:
        gateway.send_sms(to, "hi")
    return caught.value


def check_slow_response_times_out_quickly(fake, gateway) -> None:
    fake.delay_next(seconds=3)
    started = time.monotonic()
    error = send_fails(gateway)
    assert time.monotonic() - started < 2
    assert error.transient and error.code == "timeout"


def check_dropped_connection_is_transient(fake, gateway) -> None:
    fake.drop_next()
    error = send_fails(gateway)
    assert error.transient and error.code == "connection"
