"""SimulatorGateway: no network, fake provider ids."""

import re

from hotline.gateways.base import SendResult
from hotline.gateways.simulator import SimulatorGateway


def test_send_sms_is_delivered_at_once():
    result = SimulatorGateway().send_sms("+84912345678", "xin chào", status_callback="x")
    assert isinstance(result, SendResult)
    assert re.fullmatch(r"SM-sim-[0-9a-f]{32}", result.external_id)
    assert result.status == "delivered"


def test_place_call_is_queued():
    result = SimulatorGateway().place_call("+84912345678", url="https://h/ivr/outbound")
    assert re.fullmatch(r"CA-sim-[0-9a-f]{32}", result.external_id)
    assert result.status == "queued"


def test_ids_are_unique():
    gateway = SimulatorGateway()
    ids = {gateway.send_sms("+84912345678", "a").external_id for _ in range(50)}
    assert len(ids) == 50
    assert gateway.name == "simulator"
