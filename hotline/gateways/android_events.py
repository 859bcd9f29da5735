"""The Android gateway's webhook events ("SMS Gateway for Android"): the app posts JSON
events to ``POST /sms/android``, signed with HMAC-SHA256 over ``body + X-Timestamp`` (hex,
header ``X-Signature``); ``verify_webhook`` checks that, ``parse_webhook`` turns an
``sms:received`` event into an ``InboundSms`` and ``parse_status`` a delivery report into a
``StatusEvent``.

Standard library only (``gateways.base`` is too): the SMS door reads these in every web
process, and the app's client package (``android``, the outbound adapter) pulls aiohttp and
more. The event names are the API's (``android_sms_gateway.enums.WebhookEvent``; a test
keeps them equal).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

from hotline.gateways.base import StatusEvent

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Timestamp"
SMS_RECEIVED = "sms:received"


@dataclass(frozen=True)
class InboundSms:
    """One received SMS from an ``sms:received`` webhook event.

    ``external_id`` is the event id (unique per event, repeated on the app's retries);
    ``message_id`` is the app's content-based id, which the docs say may repeat.
    """

    external_id: str
    phone: str
    body: str
    received_at: str | None = None
    message_id: str | None = None
    sim_number: int | None = None
    device_id: str | None = None


def sign_webhook(secret: str, body: bytes, timestamp: str) -> str:
    """The app's signature: hex HMAC-SHA256 of ``body + timestamp`` keyed with ``secret``."""
    return hmac.new(secret.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


def verify_webhook(
    secret: str,
    body: bytes,
    timestamp: str,
    signature: str,
    *,
    now: float | None = None,
    tolerance: int = 300,
) -> bool:
    """True when ``signature`` signs the raw ``body`` and ``timestamp`` is fresh (± tolerance s)."""
    if not (secret and timestamp and signature):
        return False
    try:
        sent_at = int(timestamp.strip())
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance:
        return False
    expected = sign_webhook(secret, body, timestamp)
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())


def parse_webhook(payload: dict[str, Any]) -> InboundSms | None:
    """An ``InboundSms`` for an ``sms:received`` event; ``None`` for other events.

    Raises ``ValueError`` when an ``sms:received`` event lacks its id, phone or text.
    """
    if not isinstance(payload, dict) or payload.get("event") != SMS_RECEIVED:
        return None
    data = payload.get("payload")
    if not isinstance(data, dict):
        raise ValueError("sms:received event without payload")
    external_id = payload.get("id") or data.get("messageId")
    phone = data.get("phoneNumber") or data.get("sender")
    body = data.get("message")
    if not external_id or not phone or not isinstance(body, str):
        raise ValueError("sms:received event lacks id, phoneNumber or message")
    sim = data.get("simNumber")
    return InboundSms(
        external_id=str(external_id),
        phone=str(phone),
        body=body,
        received_at=data.get("receivedAt"),
        message_id=data.get("messageId"),
        sim_number=sim if isinstance(sim, int) else None,
        device_id=payload.get("deviceId"),
    )


# Delivery reports the phone sends for our outbound messages, as provider statuses.
STATUS_EVENTS = {
    "sms:sent": "sent",
    "sms:delivered": "delivered",
    "sms:failed": "failed",
    "sms:cancelled": "cancelled",  # never sent: cancelled, not failed
}


def parse_status(payload: dict[str, Any]) -> StatusEvent | None:
    """A ``StatusEvent`` for ``sms:sent``/``delivered``/``failed``/``cancelled``, else None."""
    status = STATUS_EVENTS.get(payload.get("event")) if isinstance(payload, dict) else None
    data = payload.get("payload") if status else None
    if not isinstance(data, dict) or not isinstance(data.get("messageId"), str):
        return None
    reason = data.get("reason")
    parts = data.get("partsCount")
    event_id = payload.get("id")
    return StatusEvent(
        data["messageId"], status, reason if isinstance(reason, str) else None,
        event_id=event_id if isinstance(event_id, str) else None,
        parts=parts if isinstance(parts, int) and not isinstance(parts, bool) else None,
    )


def event_device(payload: Any) -> str | None:
    """The ``deviceId`` of the phone that sent an event (any event), if it names one."""
    device = payload.get("deviceId") if isinstance(payload, dict) else None
    if not isinstance(device, str) or not 0 < len(device) <= 64 or not device.isprintable():
        return None  # a lone surrogate or a control character is no id (and no query)
    return device
