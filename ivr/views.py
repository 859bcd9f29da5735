"""Voice webhooks. The menu itself arrives with the voice-line work."""

from __future__ import annotations

from flask import Response

from ivr import bp
from sms.signatures import twilio_signed


@bp.post("/incoming")
@twilio_signed
def incoming():
    return Response(
        '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="vi-VN">'
        "Xin chào. Tổng đài đang được xây dựng.</Say><Hangup/></Response>",
        mimetype="text/xml",
    )


@bp.post("/status")
@twilio_signed
def status():
    return "", 204
