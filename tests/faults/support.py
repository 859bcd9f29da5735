"""Helpers shared by the fault, fuzz and webhook security suites (not a test module).

Signed requests the way Twilio and the Android gateway make them, and a census of every
table so a test can prove a rejected request wrote nothing.
"""

from __future__ import annotations

import json
import os
import time

from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from hotline.db import Base
from hotline.gateways.android_events import sign_webhook
from tests.conftest import AUTH_TOKEN, PUBLIC_URL

ACCOUNT_SID = "AC" + "0" * 32
ANDROID_SECRET = "android-secret"
LINE = "+15005550006"


def examples(default: int) -> int:
    """Hypothesis example count: ``default`` in ``make test``, more with HOTLINE_FUZZ_EXAMPLES."""
    return int(os.environ.get("HOTLINE_FUZZ_EXAMPLES") or default)


def webhook_settings(settings):
    """Signature checks on for both Twilio and the Android gateway."""
    return settings.replace(twilio_auth_token=AUTH_TOKEN, twilio_account_sid=ACCOUNT_SID,
                            android_webhook_secret=ANDROID_SECRET)


def twilio_signature(path: str, form, *, token: str = AUTH_TOKEN, base: str = PUBLIC_URL) -> str:
    return RequestValidator(token).compute_signature(base + path, form)


def signed_post(client, path: str, form, *, token: str = AUTH_TOKEN, base: str = PUBLIC_URL,
                **kwargs):
    """POST ``form`` to ``path`` with the X-Twilio-Signature Twilio would send."""
    headers = {"X-Twilio-Signature": twilio_signature(path, form, token=token, base=base)}
    return client.post(path, data=form, headers=headers, **kwargs)


def android_post(client, body: bytes | dict | list | None, *, secret: str = ANDROID_SECRET,
                 timestamp: str | None = None):
    """POST raw ``body`` (or JSON of it) to /sms/android, HMAC-signed as the app does."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    ts = timestamp if timestamp is not None else str(int(time.time()))
    return client.post("/sms/android", data=raw, content_type="application/json",
                       headers={"X-Timestamp": ts, "X-Signature": sign_webhook(secret, raw, ts)})


def inbound_form(sid: str, body: str = "Xin chào", sender: str = "+84912345678") -> dict:
    """Twilio's incoming-message form fields."""
    return {"MessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT_SID, "From": sender,
            "To": LINE, "Body": body, "NumMedia": "0", "NumSegments": "1"}


def sms_received(event_id: str, text: str = "KN bi thu hang", phone: str = "+84912345678"):
    """An Android gateway ``sms:received`` event."""
    return {"deviceId": "dev1", "event": "sms:received", "id": event_id, "webhookId": "wh1",
            "payload": {"messageId": event_id, "message": text, "phoneNumber": phone,
                        "simNumber": 1, "receivedAt": "2026-12-01T10:00:00.000+07:00"}}


def census(sessions) -> dict[str, int]:
    """Rows in every table, by table name."""
    tables = Base.metadata.sorted_tables
    query = select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))
    with sessions() as session:
        return dict(zip((t.name for t in tables), session.execute(query).one(), strict=True))
