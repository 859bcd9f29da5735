"""Android adapter: "SMS Gateway for Android" (a phone with a local SIM), PyPI client
``android_sms_gateway``.

Outbound: ``AndroidGateway.send_sms`` posts to the app's REST API (cloud, private or local
server). Inbound: the app posts JSON events to our webhook, signed with HMAC-SHA256 over
``body + X-Timestamp`` (hex, header ``X-Signature``); ``verify_webhook`` checks that and
``parse_webhook`` turns an ``sms:received`` event into an ``InboundSms``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import UTC
from http import HTTPStatus
from typing import Any

import requests
from android_sms_gateway import APIClient, Message, MessageState, ProcessState, TextMessage
from android_sms_gateway.constants import DEFAULT_URL
from android_sms_gateway.enums import WebhookEvent
from android_sms_gateway.errors import APIError
from android_sms_gateway.http import RequestsHttpClient

from hotline.gateways.base import GatewayError, SendOptions, SendResult

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Timestamp"
SMS_RECEIVED = WebhookEvent.SMS_RECEIVED.value


class TimeoutSession(requests.Session):
    """``requests.Session`` with a default timeout (the library passes none)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, **kwargs)


class AndroidGateway:
    """Outbound SMS through an Android phone running SMS Gateway for Android."""

    name = "android"

    def __init__(self, base_url: str, login: str, password: str, *, timeout: float = 10.0) -> None:
        if not password:
            raise ValueError("android gateway needs a password (or a token without login)")
        self.base_url = (base_url or DEFAULT_URL).rstrip("/")
        self.session = TimeoutSession(timeout)
        self.client = APIClient(
            login or None,
            password,
            base_url=self.base_url,
            http=RequestsHttpClient(session=self.session),
        )

    def send_sms(
        self, to: str, body: str, *, status_callback: str | None = None,
        options: SendOptions | None = None,
    ) -> SendResult:
        """Queue one SMS on the phone. ``status_callback`` is unused: states come by webhook.

        ``options.message_id`` becomes the message's ``id``: the API answers 409 to an id it
        already has, which means a send whose answer was lost went through, so that is an
        accepted message, not a failure. ``valid_until``, ``device_id`` and ``sim_number``
        are passed as the API's ``validUntil``, ``deviceId`` and ``simNumber``.
        """
        options = options or SendOptions()
        valid_until = options.valid_until
        if valid_until is not None:
            valid_until = valid_until.astimezone(UTC).replace(microsecond=0)
        message = Message(
            phone_numbers=[to], text_message=TextMessage(text=body), id=options.message_id,
            valid_until=valid_until, device_id=options.device_id, sim_number=options.sim_number,
        )
        try:
            state: MessageState = self.client.send(message)
        except APIError as exc:
            if exc.status_code == HTTPStatus.CONFLICT and options.message_id:
                return SendResult(external_id=options.message_id, status="pending")
            raise _api_error(exc) from exc
        except requests.exceptions.RequestException as exc:
            raise _network_error(exc) from exc
        except (KeyError, TypeError, ValueError) as exc:  # a 2xx answer we cannot read
            raise GatewayError(
                f"android bad response: {exc!r}", code="bad_response", transient=True
            ) from exc
        if state.state is ProcessState.Failed:
            reasons = "; ".join(r.error for r in state.recipients if r.error) or "failed"
            raise GatewayError(f"android: {reasons}", code="failed")
        return SendResult(external_id=state.id, status=state.state.value.lower())

    def cancel(self, external_id: str) -> bool:
        """Cancel a message the gateway holds but has not sent: True if it was cancelled,
        False if it is gone or past cancelling (sent, failed, unknown). Raises
        ``GatewayError`` (transient) when the gateway could not be asked."""
        try:
            self.client.cancel_message(external_id)
        except requests.exceptions.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            if status in (HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT):
                return False
            raise GatewayError(f"android cancel {status}", code=str(status),
                               transient=status == 429 or status >= 500) from exc
        except APIError as exc:
            if exc.status_code in (400, 404, 409):
                return False
            raise _api_error(exc) from exc
        except requests.exceptions.RequestException as exc:
            raise _network_error(exc) from exc
        return True

    def fetch_status(self, external_id: str) -> tuple[str, str | None]:
        """The message's state as the gateway holds it (reconciliation of lost reports)."""
        try:
            state = self.client.get_state(external_id)
        except APIError as exc:
            raise _api_error(exc) from exc
        except requests.exceptions.RequestException as exc:
            raise _network_error(exc) from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise GatewayError(f"android bad response: {exc!r}", code="bad_response",
                               transient=True) from exc
        errors = [r.error for r in state.recipients if r.error]
        return state.state.value.lower(), errors[0][:20] if errors else None

    def place_call(self, to: str, *, url: str, status_callback: str | None = None,
                   machine_detection: str | None = None) -> SendResult:
        raise GatewayError("android gateway cannot place calls", code="unsupported")

    def close(self) -> None:
        """Close pooled HTTP connections."""
        self.session.close()


def _network_error(exc: requests.exceptions.RequestException) -> GatewayError:
    if isinstance(exc, requests.exceptions.Timeout):
        return GatewayError(f"android timed out: {exc}", code="timeout", transient=True)
    if isinstance(exc, requests.exceptions.InvalidJSONError):
        return GatewayError(f"android bad response: {exc}", code="bad_response", transient=True)
    return GatewayError(f"android unreachable: {exc}", code="connection", transient=True)


def _api_error(exc: APIError) -> GatewayError:
    status = exc.status_code or 0
    detail = exc.response.get("message") if isinstance(exc.response, dict) else None
    transient = status == 429 or status >= 500
    return GatewayError(f"android {status}: {detail or exc}", code=str(status), transient=transient)


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
    WebhookEvent.SMS_SENT.value: "sent",
    WebhookEvent.SMS_DELIVERED.value: "delivered",
    WebhookEvent.SMS_FAILED.value: "failed",
    WebhookEvent.SMS_CANCELLED.value: "cancelled",  # never sent: cancelled, not failed
}


@dataclass(frozen=True)
class StatusEvent:
    """A delivery report: ``message_id`` is the id ``send_sms`` returned, ``event_id`` the
    event's own (repeated on the app's retries). The app reports each part of a multipart
    SMS: ``sms:sent`` once with ``parts`` (``partsCount``), delivered or failed per part."""

    message_id: str
    status: str
    reason: str | None = None
    event_id: str | None = None
    parts: int | None = None


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
