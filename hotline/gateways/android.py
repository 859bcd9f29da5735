"""Android adapter: "SMS Gateway for Android" (a phone with a local SIM), PyPI client
``android_sms_gateway``.

Outbound: ``AndroidGateway.send_sms`` posts to the app's REST API (cloud, private or local
server). Built by ``registry`` only where the Android gateway is configured: the client
package imports its asyncio client too (aiohttp, yarl, multidict...), several MB that no
other process needs. The webhook events the phones post (inbound) are read by
``android_events``, which needs none of it.
"""

from __future__ import annotations

from datetime import UTC
from http import HTTPStatus

import requests
from android_sms_gateway import APIClient, Message, MessageState, ProcessState, TextMessage
from android_sms_gateway.constants import DEFAULT_URL
from android_sms_gateway.errors import APIError
from android_sms_gateway.http import RequestsHttpClient

from hotline.gateways.base import GatewayError, SendOptions, SendResult


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
