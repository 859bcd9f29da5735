"""Gateway registry: settings name -> factory, in the style of CTFd's providers.

Factories import their adapter lazily, so importing the registry pulls in neither
``twilio`` nor ``android_sms_gateway``.
"""

from __future__ import annotations

from collections.abc import Callable

from hotline.config import Settings
from hotline.gateways.base import SmsGateway, VoiceGateway


def _simulator(settings: Settings):
    from hotline.gateways.simulator import SimulatorGateway

    return SimulatorGateway()


def _twilio(settings: Settings):
    from hotline.gateways.twilio import TwilioGateway

    return TwilioGateway(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        settings.twilio_from,
        api_base_url=settings.twilio_api_base_url,
        timeout=settings.gateway_timeout,
    )


def _android(settings: Settings):
    from hotline.gateways.android import AndroidGateway

    return AndroidGateway(
        settings.android_url,
        settings.android_login,
        settings.android_password,
        timeout=settings.gateway_timeout,
    )


GATEWAYS: dict[str, Callable[[Settings], object]] = {
    "simulator": _simulator,
    "twilio": _twilio,
    "android": _android,
}


def build(name: str, settings: Settings) -> object:
    """The gateway ``name`` built from ``settings``."""
    return _build(name, settings)


def _build(name: str, settings: Settings) -> object:
    try:
        factory = GATEWAYS[name]
    except KeyError:
        raise ValueError(f"unknown gateway {name!r}; choose one of {', '.join(GATEWAYS)}") from None
    return factory(settings)


def sms_gateway(settings: Settings) -> SmsGateway:
    """The SMS gateway named by ``settings.sms_gateway``."""
    return _build(settings.sms_gateway, settings)  # type: ignore[return-value]


def voice_gateway(settings: Settings) -> VoiceGateway:
    """The voice gateway named by ``settings.voice_gateway``.

    ``android`` is accepted but every call fails permanently: the app relays SMS only.
    """
    return _build(settings.voice_gateway, settings)  # type: ignore[return-value]
