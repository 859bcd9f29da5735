"""Gateway registry: settings name -> factory, in the style of CTFd's providers.

Factories import their adapter lazily, so importing the registry pulls in neither
``twilio`` nor ``android_sms_gateway``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from hotline.config import Settings
from hotline.gateways.base import SmsGateway, VoiceGateway


def _adapter(module: str, cls: str, *fields: str, **named: str) -> Callable[[Settings], object]:
    """A factory for the adapter ``module.cls``, imported when first built, called with the
    settings ``fields`` (in order) and ``named`` (keyword -> settings field)."""

    def factory(settings: Settings) -> object:
        adapter = getattr(importlib.import_module(module), cls)
        return adapter(*(getattr(settings, f) for f in fields),
                       **{key: getattr(settings, f) for key, f in named.items()})

    return factory


GATEWAYS: dict[str, Callable[[Settings], object]] = {
    "simulator": _adapter("hotline.gateways.simulator", "SimulatorGateway"),
    "twilio": _adapter("hotline.gateways.twilio", "TwilioGateway", "twilio_account_sid",
                       "twilio_auth_token", "twilio_from", api_base_url="twilio_api_base_url",
                       timeout="gateway_timeout"),
    "android": _adapter("hotline.gateways.android", "AndroidGateway", "android_url",
                        "android_login", "android_password", timeout="gateway_timeout"),
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
