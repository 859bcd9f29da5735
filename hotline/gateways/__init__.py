"""Gateways: Protocols in ``base``, adapters in their own modules, chosen by ``registry``."""

from hotline.gateways.base import (
    GatewayError,
    SendOptions,
    SendResult,
    SmsGateway,
    VoiceGateway,
)
from hotline.gateways.registry import GATEWAYS, sms_gateway, voice_gateway

__all__ = [
    "GATEWAYS",
    "GatewayError",
    "SendOptions",
    "SendResult",
    "SmsGateway",
    "VoiceGateway",
    "sms_gateway",
    "voice_gateway",
]
