"""SMS webhooks: Twilio inbound and status, the Android gateway's events."""

from __future__ import annotations

import json
import logging

from flask import Response, abort, request

from hotline import clock
from hotline.db import session_scope
from hotline.gateways import android_events
from hotline.services import devices, inbound, outbox
from sms import bp
from web import runtime
from web.signatures import twilio_signed

log = logging.getLogger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _twiml(body: str = EMPTY_TWIML) -> Response:
    return Response(body, mimetype="text/xml")


def _token(value: object, limit: int = 64) -> str | None:
    """``value`` if it can be a gateway's id or code: printable (no NUL, no lone surrogate),
    at most ``limit`` characters, as the columns hold. Anything else is a malformed request."""
    value = value.strip() if isinstance(value, str) else ""
    return value if 0 < len(value) <= limit and value.isprintable() else None


@bp.post("/inbound")
@twilio_signed
def twilio_inbound():
    """Twilio's incoming-message webhook: stored once and answered with empty TwiML; the
    ``handle_inbound`` job acts on it within a second and the reply goes through the outbox."""
    sid = _token(request.form.get("MessageSid") or request.form.get("SmsSid"))
    sender = request.form.get("From", "")
    if not sid or not sender:
        return _twiml(), 400
    inbound.receive_text(runtime(), "twilio", sid, sender, request.form.get("Body", ""))
    return _twiml()


@bp.post("/status")
@twilio_signed
def twilio_status():
    """Twilio's message status callback; only ever moves a message forward."""
    sid = _token(request.form.get("MessageSid") or request.form.get("SmsSid"))
    status = request.form.get("MessageStatus") or request.form.get("SmsStatus")
    if not sid or not status:
        return "", 400
    with session_scope(runtime().sessions) as session:
        outbox.record_status(
            session, clock.utcnow(), "twilio", sid, status,
            _token(request.form.get("ErrorCode"), 20),
        )
    return "", 204


@bp.post("/android")
def android_webhook():
    """Events from the Android gateway phones, HMAC-signed with the phone's own key (or the
    line-wide one in settings). Every event marks its phone seen; delivery reports move
    outbound messages (part by part), received texts are stored for ``handle_inbound``."""
    raw = request.get_data(cache=True)
    payload = _json(raw)
    phone_id = android_events.event_device(payload)
    if not _android_signed(raw, phone_id):
        abort(403)
    if payload is _UNREADABLE or not isinstance(payload, dict):
        return {"error": "invalid JSON" if payload is _UNREADABLE else "invalid event"}, 400
    if (report := android_events.parse_status(payload)) is not None:
        return _android_report(payload, phone_id, report)
    return _android_text(payload, phone_id)


def _json(raw: bytes):
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested ten thousand deep
        return _UNREADABLE


def _android_report(payload: dict, phone_id, report):
    """A delivery report: the outbound message moves on (part by part)."""
    if not _token(report.message_id) or (report.event_id and not _token(report.event_id)):
        return {"error": "invalid message id"}, 400
    now = clock.utcnow()
    with session_scope(runtime().sessions) as session:
        if phone_id is not None:
            devices.seen(session, now, phone_id, payload["event"])
        outbox.record_report(session, now, "android", report)
    return "", 204


def _android_text(payload: dict, phone_id):
    """A received text, stored for ``handle_inbound``; any other event: the phone is alive."""
    try:
        event = android_events.parse_webhook(payload)
    except ValueError as exc:
        return {"error": str(exc)}, 400
    if event is None:  # system:ping and the rest
        if phone_id is not None and isinstance(payload.get("event"), str):
            devices.mark_seen(runtime().engine, clock.utcnow(), phone_id, payload["event"])
        return "", 204
    if not _token(event.external_id):
        return {"error": "invalid event id"}, 400
    inbound.receive_text(runtime(), "android", event.external_id, event.phone, event.body,
                         resends=True, phone_id=phone_id, sim_number=event.sim_number)
    return "", 204


_UNREADABLE = object()


def _android_signed(raw: bytes, phone_id: str | None) -> bool:
    """Signed with the line's key or with a key set for the phone the event names. Unsigned
    events are never trusted: no key anywhere means no Android door."""
    rt = runtime()
    keys = [rt.settings.android_webhook_secret] if rt.settings.android_webhook_secret else []
    if phone_id is not None:
        keys += devices.webhook_keys(rt.sessions, phone_id)
    timestamp = request.headers.get("X-Timestamp", "")
    signature = request.headers.get("X-Signature", "")
    return any(android_events.verify_webhook(key, raw, timestamp, signature) for key in keys)
