"""Twilio adapter: outbound SMS and calls through the official ``twilio`` client.

``api_base_url`` points the real client at another host (a local fake in tests): a
``TwilioHttpClient`` subclass rewrites the ``https://*.twilio.com`` prefix of every request
URL just before it goes on the wire, after the library has built it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from twilio.base import values
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from hotline.gateways.base import GatewayError, SendResult

TWILIO_API = "https://api.twilio.com"
CALL_EVENTS = ("initiated", "ringing", "answered", "completed")
CALL_TIMEOUT = 30  # seconds Twilio lets the phone ring
# Twilio error codes that no retry can fix: invalid number, not a mobile, recipient sent STOP.
PERMANENT_CODES = frozenset({21211, 21614, 21610})
RATE_LIMITED = 20429
# What the client raises for API errors, network trouble and unparsable answers.
FAILURES = (TwilioException, requests.exceptions.RequestException, ValueError)


class BaseUrlHttpClient(TwilioHttpClient):
    """``TwilioHttpClient`` that sends ``https://*.twilio.com/...`` requests to ``base_url``."""

    def __init__(self, base_url: str, *, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def rewrite(self, url: str) -> str:
        """Swap the scheme and Twilio host of ``url`` for ``base_url``; keep path and query."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme != "https" or not (host == "twilio.com" or host.endswith(".twilio.com")):
            return url
        rest = parts.path + (f"?{parts.query}" if parts.query else "")
        return self.base_url + rest

    def request(self, method, url, *args, **kwargs):
        return super().request(method, self.rewrite(url), *args, **kwargs)


class TwilioGateway:
    """SMS and voice through Twilio's REST API. Raises ``GatewayError`` on any failure."""

    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_: str,
        *,
        api_base_url: str = TWILIO_API,
        timeout: float = 10.0,
    ) -> None:
        if not (account_sid and auth_token and from_):
            raise ValueError("twilio gateway needs an account SID, an auth token and a sender")
        self.from_ = from_
        self.api_base_url = (api_base_url or TWILIO_API).rstrip("/")
        if self.api_base_url == TWILIO_API:
            http_client = TwilioHttpClient(timeout=timeout)
        else:
            http_client = BaseUrlHttpClient(self.api_base_url, timeout=timeout)
        self.client = Client(account_sid, auth_token, http_client=http_client)

    def send_sms(
        self, to: str, body: str, *, status_callback: str | None = None, options=None
    ) -> SendResult:
        """Create a Message; ``status_callback`` becomes Twilio's ``StatusCallback``."""
        try:
            message = self.client.messages.create(
                to=to, from_=self.from_, body=body, status_callback=_unset(status_callback)
            )
        except FAILURES as exc:
            raise gateway_error(exc) from exc
        return SendResult(external_id=message.sid, status=message.status or "queued")

    def place_call(self, to: str, *, url: str, status_callback: str | None = None,
                   machine_detection: str | None = None) -> SendResult:
        """Create a Call whose TwiML comes from ``url``; status events go to the callback."""
        try:
            call = self.client.calls.create(
                to=to,
                from_=self.from_,
                url=url,
                timeout=CALL_TIMEOUT,
                status_callback=_unset(status_callback),
                status_callback_event=list(CALL_EVENTS) if status_callback else _unset(None),
                machine_detection=_unset(machine_detection),
            )
        except FAILURES as exc:
            raise gateway_error(exc) from exc
        return SendResult(external_id=call.sid, status=call.status or "queued")

    def fetch_status(self, external_id: str) -> tuple[str, str | None]:
        """The message's current status and error code, asked of Twilio (reconciliation)."""
        try:
            message = self.client.messages(external_id).fetch()
        except FAILURES as exc:
            raise gateway_error(exc) from exc
        code = message.error_code
        return message.status or "", None if code in (None, 0, "") else str(code)

    def close(self) -> None:
        """Close pooled HTTP connections."""
        session = getattr(self.client.http_client, "session", None)
        if session is not None:
            session.close()


def _unset(value):
    """Twilio's "leave this parameter out" marker for ``None``."""
    return values.unset if value is None else value


def gateway_error(exc: BaseException) -> GatewayError:
    """Map anything the twilio client raised to a transient or permanent ``GatewayError``."""
    if isinstance(exc, (TwilioRestException, TwilioServiceException)):
        status = int(exc.status or 0)
        code = exc.code if exc.code is not None else status
        if isinstance(exc, TwilioRestException):
            text = exc.msg or f"HTTP {status}"
        else:
            text = exc.detail or exc.title or f"HTTP {status}"
        transient = status == 429 or code == RATE_LIMITED or status >= 500
        if code in PERMANENT_CODES:
            transient = False
        return GatewayError(f"twilio {status}: {text}", code=str(code), transient=transient)
    cause = _requests_cause(exc)
    if isinstance(cause, requests.exceptions.Timeout):
        return GatewayError(f"twilio timed out: {cause}", code="timeout", transient=True)
    if isinstance(cause, requests.exceptions.RequestException):
        return GatewayError(f"twilio unreachable: {cause}", code="connection", transient=True)
    if isinstance(exc, ValueError):  # a 2xx answer that is not JSON
        return GatewayError(f"twilio bad response: {exc}", code="bad_response", transient=True)
    if isinstance(exc, TwilioException):
        return GatewayError(f"twilio: {exc}", code="twilio")
    return GatewayError(f"twilio: {exc!r}", code="error")


def _requests_cause(exc: BaseException | None) -> BaseException | None:
    """``exc`` itself or the requests exception it wraps (``TwilioException`` chains)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, requests.exceptions.RequestException):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None
