"""A local fake of Twilio's REST API for tests that drive the real ``twilio`` client.

    with FakeTwilio() as fake:               # listens on 127.0.0.1:<ephemeral port>
        gw = TwilioGateway(sid, token, "+15005550006", api_base_url=fake.url)
        gw.send_sms("+84912345678", "xin chao")
        req = fake.last                       # RecordedRequest
        req.path, req.auth, req.form["To"], req.form_lists["StatusCallbackEvent"]

Faults are a script consumed one per request, in order: ``fail_next``, ``delay_next``,
``drop_next``. ``FakeHttpServer`` is the generic part, shared with the Android fake.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Reply = tuple[int, Any]  # (status, JSON-able body, or bytes sent as text/html)


@dataclass
class RecordedRequest:
    """One request as the fake received it. Header names are lower-cased."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    auth: tuple[str, str] | None = None
    form_lists: dict[str, list[str]] = field(default_factory=dict)
    json: Any = None

    @property
    def form(self) -> dict[str, str]:
        """Form fields, first value of each (``form_lists`` keeps repeats)."""
        return {key: values[0] for key, values in self.form_lists.items()}


@dataclass
class Fault:
    kind: str  # "fail", "delay" or "drop"
    status: int = 500
    body: Any = None
    seconds: float = 0.0


class FakeHttpServer:
    """ThreadingHTTPServer on 127.0.0.1 in a daemon thread, recording every request.

    Subclasses implement ``handle(request) -> (status, body)`` and ``error_body``.
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> "FakeHttpServer":
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes delayed handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, no trailing slash."""
        if self._server is None:
            raise RuntimeError("fake server not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # recorded traffic
    @property
    def last(self) -> RecordedRequest:
        with self._lock:
            if not self.requests:
                raise AssertionError("the fake received no request")
            return self.requests[-1]

    def reset(self) -> None:
        """Forget recorded requests and pending faults."""
        with self._lock:
            self.requests.clear()
            self._faults.clear()

    # fault script
    def fail_next(self, n: int = 1, status: int = 500, *, raw: bytes | None = None, **details):
        """Answer the next ``n`` requests with ``status`` and the API's error body.

        ``raw`` replaces the body with non-JSON bytes (a proxy's HTML error page).
        """
        body = raw if raw is not None else self.error_body(status, **details)
        self._add(n, Fault("fail", status=status, body=body))

    def delay_next(self, n: int = 1, seconds: float = 2.0) -> None:
        """Hold the next ``n`` requests ``seconds`` (beyond a client timeout), then answer."""
        self._add(n, Fault("delay", seconds=seconds))

    def drop_next(self, n: int = 1) -> None:
        """Close the connection of the next ``n`` requests without answering."""
        self._add(n, Fault("drop"))

    def _add(self, n: int, fault: Fault) -> None:
        with self._lock:
            self._faults.extend([fault] * n)

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    # to implement
    def handle(self, request: RecordedRequest) -> Reply:
        raise NotImplementedError

    def error_body(self, status: int, **details) -> Any:
        return {"message": HTTPStatus(status).phrase, "status": status}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's
    # delayed ACK (40 ms on Linux) on every keep-alive request, capping the fake at ~25/s.
    disable_nagle_algorithm = True
    fake: FakeHttpServer

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args) -> None:  # quiet test output
        pass

    def _serve(self) -> None:
        fake = self.fake
        request = self._read()
        fake._record(request)
        fault = fake._next_fault()
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            return
        if fault is not None and fault.kind == "delay":
            if fake._stopping.wait(fault.seconds):
                self.close_connection = True
                return
        if fault is not None and fault.kind == "fail":
            status, body = fault.status, fault.body
        else:
            status, body = fake.handle(request)
        self._reply(status, body)

    def _read(self) -> RecordedRequest:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        content_type = headers.get("content-type", "")
        form: dict[str, list[str]] = {}
        payload = None
        if content_type.startswith("application/x-www-form-urlencoded"):
            form = parse_qs(body.decode(), keep_blank_values=True)
        elif content_type.startswith("application/json") and body:
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
        return RecordedRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=headers,
            body=body,
            auth=_basic_auth(headers.get("authorization", "")),
            form_lists=form,
            json=payload,
        )

    def _reply(self, status: int, body: Any) -> None:
        if isinstance(body, bytes):
            data, content_type = body, "text/html; charset=utf-8"
        elif body is None:
            data, content_type = b"", "application/json"
        else:
            data, content_type = json.dumps(body).encode(), "application/json; charset=utf-8"
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (timeout) and closed the socket
            self.close_connection = True


def _basic_auth(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


# Twilio -----------------------------------------------------------------------------------

API_VERSION = "2010-04-01"
RESOURCE = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>AC\w+)/(?P<kind>Messages|Calls)"
    r"(?:/(?P<sid>(?:SM|MM|CA)\w+))?\.json$"
)
MACHINE_DETECTION = ("Enable", "DetectMessageEnd")
DEFAULT_CODES = {401: 20003, 404: 20404, 405: 20004, 429: 20429, 500: 20500, 503: 20503}
ERROR_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    20503: "Service Unavailable",
    21211: "The 'To' number is not a valid phone number.",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21205: "Url parameter is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}


def twilio_error(status: int, code: int | None = None, message: str | None = None) -> dict:
    """Twilio's legacy error body, as the REST API sends it."""
    code = code if code is not None else DEFAULT_CODES.get(status, status)
    return {
        "code": code,
        "message": message or ERROR_MESSAGES.get(code, HTTPStatus(status).phrase),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _now() -> str:
    return format_datetime(datetime.now(UTC))


def _segments(body: str) -> int:
    gsm = all(ord(ch) < 128 for ch in body)
    single, multi = (160, 153) if gsm else (70, 67)
    return 1 if len(body) <= single else math.ceil(len(body) / multi)


class FakeTwilio(FakeHttpServer):
    """Fake ``api.twilio.com``: creates and fetches Messages and Calls.

    With ``account_sid``/``auth_token`` set it checks Basic auth and the account in the path
    (401 code 20003 / 404 code 20404), as Twilio does. Created resources are in ``messages``
    and ``calls``. ``fail_next(n, status, code=, message=)`` sends a Twilio error body:
    ``fail_next(status=429)`` gives code 20429, ``fail_next(status=400, code=21211)`` an
    invalid number.
    """

    def __init__(self, account_sid: str | None = None, auth_token: str | None = None) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[dict] = []
        self.calls: list[dict] = []

    def error_body(self, status: int, code: int | None = None, message: str | None = None):
        return twilio_error(status, code, message)

    def handle(self, request: RecordedRequest) -> Reply:
        if self.auth_token is not None:
            if (
                request.auth is None
                or request.auth[1] != self.auth_token
                or (self.account_sid and request.auth[0] != self.account_sid)
            ):
                return 401, twilio_error(401)
        match = RESOURCE.match(request.path)
        if match is None or (self.account_sid and match["account"] != self.account_sid):
            return 404, twilio_error(404)
        store = self.messages if match["kind"] == "Messages" else self.calls
        if match["sid"]:
            if request.method != "GET":
                return 405, twilio_error(405, message="Method not allowed")
            found = [item for item in store if item["sid"] == match["sid"]]
            return (200, found[0]) if found else (404, twilio_error(404))
        if request.method != "POST":
            return 405, twilio_error(405, message="Method not allowed")
        build = self._message if match["kind"] == "Messages" else self._call
        return build(match["account"], request.form)

    def _message(self, account: str, form: dict[str, str]) -> Reply:
        if not form.get("To"):
            return 400, twilio_error(400, 21604)
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return 400, twilio_error(400, 21603)
        if not (form.get("Body") or form.get("MediaUrl")):
            return 400, twilio_error(400, 21602)
        sid = "SM" + uuid.uuid4().hex
        now = _now()
        body = form.get("Body", "")
        resource = {
            "account_sid": account,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": str(_segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued" if form.get("From") else "accepted",
            "subresource_uris": {
                "media": f"/{API_VERSION}/Accounts/{account}/Messages/{sid}/Media.json"
            },
            "to": form["To"],
            "uri": f"/{API_VERSION}/Accounts/{account}/Messages/{sid}.json",
        }
        self.messages.append(resource)
        return 201, resource

    def _call(self, account: str, form: dict[str, str]) -> Reply:
        if not form.get("To"):
            return 400, twilio_error(400, 21201, "No 'To' number is specified")
        if not form.get("From"):
            return 400, twilio_error(400, 21213, "No 'From' number is specified")
        if not (form.get("Url") or form.get("Twiml") or form.get("ApplicationSid")):
            return 400, twilio_error(400, 21205)
        # Answering-machine detection takes only Twilio's two documented values.
        if form.get("MachineDetection", "Enable") not in MACHINE_DETECTION:
            return 400, twilio_error(400, 21218, "Invalid MachineDetection value")
        sid = "CA" + uuid.uuid4().hex
        now = _now()
        base = f"/{API_VERSION}/Accounts/{account}/Calls/{sid}"
        resource = {
            "account_sid": account,
            "annotation": None,
            "answered_by": None,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": now,
            "date_updated": now,
            "direction": "outbound-api",
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from": form["From"],
            "from_formatted": form["From"],
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": sid,
            "start_time": None,
            "status": "queued",
            "subresource_uris": {
                "notifications": f"{base}/Notifications.json",
                "recordings": f"{base}/Recordings.json",
                "payments": f"{base}/Payments.json",
                "events": f"{base}/Events.json",
                "siprec": f"{base}/Siprec.json",
                "streams": f"{base}/Streams.json",
                "user_defined_messages": f"{base}/UserDefinedMessages.json",
            },
            "to": form["To"],
            "to_formatted": form["To"],
            "trunk_sid": None,
            "uri": f"{base}.json",
        }
        self.calls.append(resource)
        return 201, resource
