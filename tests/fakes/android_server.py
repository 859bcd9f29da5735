"""A local fake of the "SMS Gateway for Android" 3rd-party API (``/3rdparty/v1``).

    with FakeAndroid(login="hotline", password="secret") as fake:
        gw = AndroidGateway(fake.base_url, "hotline", "secret", timeout=0.5)
        gw.send_sms("+84912345678", "xin chao")
        fake.last.json["phoneNumbers"], fake.last.auth, fake.sent[0]["id"]

Same fault script as ``FakeTwilio`` (``fail_next``, ``delay_next``, ``drop_next``); error
bodies are ``{"code": status, "message": ...}``. As the app does, a message ``id`` it already
holds is answered 409, and ``DELETE {prefix}/messages/{id}`` cancels a message still Pending
(400 once it is past that, 404 for an id it never had). ``event`` builds the JSON events the
phone posts to a webhook (``sms:received``, ``sms:sent``/``delivered``/``failed``,
``system:ping``), shaped as the app's own payload classes.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from tests.fakes.twilio_server import FakeHttpServer, RecordedRequest, Reply

PREFIX = "/3rdparty/v1"
MESSAGE = re.compile(r"^/messages?(?:/(?P<id>[\w-]+))?$")  # /messages (4.x) and /message (old)
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-"


def android_error(status: int, message: str | None = None) -> dict:
    return {"code": status, "message": message or HTTPStatus(status).phrase}


def _nanoid(size: int = 21) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(size))


class FakeAndroid(FakeHttpServer):
    """Fake cloud/private server: ``POST {prefix}/messages`` answers 202 with a message state.

    ``reply_state`` sets the state of new messages ("Pending" like the real server; "Failed"
    with ``recipient_error`` to test refusals). Accepted messages are in ``sent``.
    """

    def __init__(
        self, login: str | None = None, password: str | None = None, *, prefix: str = PREFIX
    ) -> None:
        super().__init__()
        self.login = login
        self.password = password
        self.prefix = prefix.rstrip("/")
        self.device_id = "ffffffff" + secrets.token_hex(12)
        self.reply_state = "Pending"
        self.recipient_error: str | None = None
        self.sent: list[dict] = []
        # The request body of each accepted message, by id, and the ids cancelled.
        self.requests_by_id: dict[str, dict] = {}
        self.cancelled: list[str] = []

    @property
    def base_url(self) -> str:
        """What ``AndroidGateway`` takes: server URL plus the API prefix."""
        return self.url + self.prefix

    def error_body(self, status: int, message: str | None = None) -> dict:
        return android_error(status, message)

    def handle(self, request: RecordedRequest) -> Reply:
        if not self._authorized(request):
            return 401, android_error(401, "Unauthorized")
        if not request.path.startswith(self.prefix + "/"):
            return 404, android_error(404)
        match = MESSAGE.match(request.path[len(self.prefix) :])
        if match is None:
            return 404, android_error(404)
        if match["id"]:
            found = [item for item in self.sent if item["id"] == match["id"]]
            if request.method == "DELETE":
                return self._cancel(found[0] if found else None)
            if request.method != "GET":
                return 405, android_error(405)
            return (200, found[0]) if found else (404, android_error(404, "message not found"))
        if request.method != "POST":
            return 405, android_error(405)
        return self._send(request.json)

    def _authorized(self, request: RecordedRequest) -> bool:
        """Basic auth with login and password, or a Bearer token when there is no login."""
        if self.password is None:
            return True
        if self.login:
            return request.auth == (self.login, self.password)
        return request.headers.get("authorization") == f"Bearer {self.password}"

    def _send(self, message: Any) -> Reply:
        if not isinstance(message, dict):
            return 400, android_error(400, "invalid JSON body")
        phones = message.get("phoneNumbers")
        text = (message.get("textMessage") or {}).get("text") or message.get("message")
        if not phones or not isinstance(phones, list):
            return 400, android_error(400, "phoneNumbers is required")
        if not text and not message.get("dataMessage"):
            return 400, android_error(400, "message content is required")
        if message.get("id") and any(item["id"] == message["id"] for item in self.sent):
            return 409, android_error(409, "Message with the same ID already exists")
        state = self.reply_state
        now = datetime.now(UTC).isoformat()
        resource = {
            "id": message.get("id") or _nanoid(),
            "deviceId": message.get("deviceId") or self.device_id,
            "state": state,
            "isHashed": False,
            "isEncrypted": bool(message.get("isEncrypted")),
            "recipients": [
                {"phoneNumber": phone, "state": state, "error": self.recipient_error}
                for phone in phones
            ],
            "states": {state: now},
            "createdAt": now,
        }
        self.sent.append(resource)
        self.requests_by_id[resource["id"]] = message
        return 202, resource

    def _cancel(self, resource: dict | None) -> Reply:
        if resource is None:
            return 404, android_error(404, "message not found")
        if resource["state"] != "Pending":
            return 400, android_error(400, f"message is {resource['state']}")
        resource["state"] = "Cancelled"
        resource["states"]["Cancelled"] = datetime.now(UTC).isoformat()
        self.cancelled.append(resource["id"])
        return 200, resource

    def state_of(self, message_id: str) -> str | None:
        """The state the fake holds for ``message_id`` (None: never accepted)."""
        found = [item["state"] for item in self.sent if item["id"] == message_id]
        return found[0] if found else None

    def set_state(self, message_id: str, state: str) -> None:
        """Move a held message on, as the phone does once it has sent it."""
        for item in self.sent:
            if item["id"] == message_id:
                item["state"] = state
                item["states"][state] = datetime.now(UTC).isoformat()


def event(kind: str, *, device_id: str, event_id: str | None = None, **payload) -> dict:
    """A webhook event as the app posts it: ``{id, webhookId, event, deviceId, payload}``.

    ``payload`` keys are the app's (``messageId``, ``phoneNumber``, ``simNumber``,
    ``partsCount``, ``reason``, ``message``...); for ``system:ping`` it is ``{"health": ...}``.
    """
    if kind == "system:ping":
        payload.setdefault("health", {"status": "pass", "checks": {}})
    return {
        "id": event_id or _nanoid(),
        "webhookId": "hotline-" + kind.replace(":", "-"),
        "event": kind,
        "deviceId": device_id,
        "payload": payload,
    }
