"""SMS webhooks: Twilio inbound and status, the Android gateway's events."""

from __future__ import annotations

import json
import logging

from flask import Response, abort, request

from hotline import clock
from hotline.db import session_scope
from hotline.gateways import android
from hotline.services import inbound, outbox
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
    """Events from the Android SMS gateway phone, HMAC-signed with our shared secret."""
    settings = runtime().settings
    raw = request.get_data(cache=True)
    # Unsigned events are never trusted: no secret configured means no Android door.
    if not settings.android_webhook_secret or not android.verify_webhook(
        settings.android_webhook_secret,
        raw,
        request.headers.get("X-Timestamp", ""),
        request.headers.get("X-Signature", ""),
    ):
        abort(403)
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested ten thousand deep
        return {"error": "invalid JSON"}, 400
    if not isinstance(payload, dict):
        return {"error": "invalid event"}, 400
    report = android.parse_status(payload)
    if report is not None:
        if not _token(report.message_id):
            return {"error": "invalid message id"}, 400
        with session_scope(runtime().sessions) as session:
            outbox.record_status(session, clock.utcnow(), "android", report.message_id,
                                 report.status, error_message=report.reason)
        return "", 204
    try:
        event = android.parse_webhook(payload)
    except ValueError as exc:
        return {"error": str(exc)}, 400
    if event is None:
        return "", 204
    if not _token(event.external_id):
        return {"error": "invalid event id"}, 400
    inbound.receive_text(runtime(), "android", event.external_id, event.phone, event.body,
                         resends=True)
    return "", 204
