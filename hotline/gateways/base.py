"""What every gateway offers: small Protocols the outbox and the call queue rely on.

Services never construct a gateway; the app or the scheduler picks one by setting
(see ``hotline.gateways.registry``) and passes it in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class SendResult:
    """A gateway accepted the message or call; ``external_id`` is its id for it."""

    external_id: str
    status: str = "sent"


@dataclass(frozen=True)
class StatusEvent:
    """A delivery report of a gateway that reports each part of a multipart SMS (Android:
    ``sms:sent`` once with ``parts``, its ``partsCount``; delivered or failed per part).
    ``message_id`` is the id ``send_sms`` returned, ``event_id`` the event's own (repeated
    on the gateway's retries)."""

    message_id: str
    status: str
    reason: str | None = None
    event_id: str | None = None
    parts: int | None = None


@dataclass(frozen=True)
class SendOptions:
    """What a gateway may use of the outbox row beyond number and text.

    ``message_id`` is the row's idempotency id: a gateway that knows ids refuses a second
    message with it, so a retry after a lost answer cannot text twice. ``valid_until`` is
    when the message stops being worth sending (a phone back online after it drops it);
    ``device_id``/``sim_number`` pick the phone and SIM it leaves from. Gateways ignore what
    they cannot use.
    """

    message_id: str | None = None
    valid_until: datetime | None = None
    device_id: str | None = None
    sim_number: int | None = None


class GatewayError(Exception):
    """A gateway refused or failed.

    ``transient`` errors (timeouts, dropped connections, 5xx, 429) are retried with
    backoff; the others end the message with ``code`` and the message as the reason.
    """

    def __init__(self, message: str, *, code: str = "", transient: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.transient = transient


class SmsGateway(Protocol):
    name: str

    def send_sms(
        self, to: str, body: str, *, status_callback: str | None = None,
        options: SendOptions | None = None,
    ) -> SendResult:
        """Hand one SMS to the provider. Raises GatewayError."""
        ...


class VoiceGateway(Protocol):
    name: str

    def place_call(self, to: str, *, url: str, status_callback: str | None = None,
                   machine_detection: str | None = None) -> SendResult:
        """Start an outbound call whose TwiML is fetched from ``url``. Raises GatewayError.

        ``machine_detection`` (Twilio's ``MachineDetection``: ``DetectMessageEnd``) asks the
        gateway to tell a machine from a person (``AnsweredBy`` on the first webhook)."""
        ...
